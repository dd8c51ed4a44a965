import { Type, type Static } from '@sinclair/typebox'
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

/** A send's 202 (POST /v1/sms-codes), built by send/; the legacy route answers `{message}` instead. */
export const SendAccepted = Type.Object({
  requestId: Type.String({ examples: ['0-Jq3v9xP2aL0mZ8kQ'] }),
  expiresIn: Type.Integer({ description: 'seconds the code stays valid', examples: [300] }),
  resendIn: Type.Integer({ description: 'seconds until another code may be asked for', examples: [60] }),
}, { description: 'The code is queued for sending; `requestId` tracks it.' })
export type SendAccepted = Static<typeof SendAccepted>

const ErrorFields = {
  error: Type.String({ description: 'snake_case code' }),
  message: Type.String({ description: 'a human sentence' }),
  retryAfter: Type.Optional(Type.Integer({ description: 'seconds until a retry may succeed' })),
  attemptsLeft: Type.Optional(Type.Integer({ description: 'wrong tries left before the code is burnt' })),
}
const ErrorBody = Type.Object(ErrorFields)
/** An example body: the shared fields, plus any the route names (additionalProperties: true). */
type ErrorExample = Static<typeof ErrorBody> & Record<string, unknown>

/**
 * An error answer as the document shows it: the contract's `{error, message}` shape,
 * with what this route means by the status and one example. The codes and headers
 * every route shares (invalid_host, rate_limited, Retry-After) are added by openapi.ts.
 */
export const ErrorAnswer = (description: string, example: ErrorExample) =>
  Type.Object(ErrorFields, { additionalProperties: true, description, examples: [example] })
