import { Type, type Static } from '@sinclair/typebox'

export const PURPOSES = ['register', 'login', 'reset_password'] as const
export const PurposeSchema = Type.Union(PURPOSES.map((p) => Type.Literal(p)), {
  description: 'what the code is for; a code only verifies for the purpose it was sent for',
  examples: ['register'],
})
export type Purpose = Static<typeof PurposeSchema>
export const isPurpose = (s: string): s is Purpose => (PURPOSES as readonly string[]).includes(s)
