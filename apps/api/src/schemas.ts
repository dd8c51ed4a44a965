import { Type } from '@sinclair/typebox'
import { PurposeSchema } from '@sms-verify/shared'
import { IDEMPOTENCY_KEY_PATTERN } from './idempotency.js'

/** Loose on purpose: libphonenumber decides validity, so a bad number gets invalid_mobile, not a schema error. */
export const Mobile = Type.String({ minLength: 1, maxLength: 32, description: 'a mobile number; without a country code it is read as CN', examples: ['13812345678', '+8613812345678'] })
export { PurposeSchema as Purpose }

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ pattern: IDEMPOTENCY_KEY_PATTERN, description: 'repeat a request safely within 24 h', examples: ['order-4711-signup'] })),
})

/** Optional in the schema, required by the send routes while CAPTCHA_PROVIDER is set (400 captcha_required). */
export const CaptchaToken = Type.Optional(Type.String({ maxLength: 8192, description: 'with CAPTCHA_PROVIDER set, required: the widget token (Tencent: the ticket); good for one send' }))
export const CaptchaRandstr = Type.Optional(Type.String({ maxLength: 256, description: 'with CAPTCHA_PROVIDER=tencent, required: the randstr handed out with the ticket' }))

/**
 * An error answer as the document shows it: the contract's `{error, message}` shape,
 * with what this route means by the status and one example. The codes and headers
 * every route shares (invalid_host, rate_limited, Retry-After) are added by openapi.ts.
 */
export const ErrorAnswer = (description: string, example: { error: string, message: string, [field: string]: unknown }) =>
  Type.Object({
    error: Type.String({ description: 'snake_case code' }),
    message: Type.String({ description: 'a human sentence' }),
    retryAfter: Type.Optional(Type.Integer({ description: 'seconds until a retry may succeed' })),
    attemptsLeft: Type.Optional(Type.Integer({ description: 'wrong tries left before the code is burnt' })),
  }, { additionalProperties: true, description, examples: [example] })
