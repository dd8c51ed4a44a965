import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

/**
 * What a sender writes (globalKeys.pausedSender, with a TTL) while every
 * provider's circuit is open, for `pnpm sms stats`.
 */
export const PausedSenderSchema = Type.Object({
  consumer: Type.String(),
  /** the providers whose circuits are open */
  providers: Type.Array(Type.String()),
  /** epoch ms: when the pause began */
  since: Type.Number(),
  /** epoch ms: when the first circuit half-opens and the sender reads again */
  resumeAt: Type.Number(),
})
export type PausedSender = Static<typeof PausedSenderSchema>

export const encodePausedSender = (p: PausedSender): string => JSON.stringify(p)

/** undefined for a value that is not a pause record (unreadable JSON or the wrong shape) */
export function decodePausedSender(raw: string): PausedSender | undefined {
  let value: unknown
  try { value = JSON.parse(raw) } catch { return undefined }
  return Value.Check(PausedSenderSchema, value) ? value : undefined
}
