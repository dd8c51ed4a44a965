import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { errorResponses } from '../errors.js'
import { CaptchaRandstr, CaptchaToken, ErrorAnswer, IdempotencyHeaders, Mobile, Purpose, SendAccepted } from '../schemas.js'
import { idempotencyKeyOf } from '../idempotency.js'
import type { CodeSender } from '../send/index.js'
import type { CaptchaGate } from '../captcha/gate.js'

const schema = {
  summary: 'Send a verification code',
  operationId: 'sendCode',
  description: 'Queues one SMS with a fresh code. Refused while a code for the same number and purpose was sent within RESEND_INTERVAL_SECONDS, and by the per-number, per-IP, carrier and budget limits. With CAPTCHA_PROVIDER set, captchaToken (Tencent: and captchaRandstr) is required: 400 captcha_required without it, 403 captcha_failed when the provider refuses it, 503 captcha_unavailable when the provider does not answer within 3 s; TEST_NUMBERS skip the captcha.',
  tags: ['codes'],
  headers: IdempotencyHeaders,
  body: Type.Object({ mobile: Mobile, purpose: Purpose, captchaToken: CaptchaToken, captchaRandstr: CaptchaRandstr },
    { additionalProperties: false, examples: [{ mobile: '13812345678', purpose: 'register' }, { mobile: '13812345678', purpose: 'register', captchaToken: '0.Zm9vYmFy…' }] }),
  response: {
    202: SendAccepted,
    400: ErrorAnswer('invalid_mobile, invalid_purpose, invalid_body, region_not_allowed, invalid_idempotency_key, or captcha_required (CAPTCHA_PROVIDER set, no captchaToken).', { error: 'invalid_mobile', message: 'mobile is not a valid mobile number' }),
    403: ErrorAnswer('captcha_failed: the captcha provider refused the token (a token is good for one send).', { error: 'captcha_failed', message: 'the captcha was not accepted; solve it again (a token is good for one send)' }),
    429: ErrorAnswer('too_frequent (per number and purpose), rate_limited (per IP), daily_limit (per number) or carrier_limit; `retryAfter` and `Retry-After` say when to try again.',
      { error: 'too_frequent', message: 'a code was sent to this number recently; wait before asking again', retryAfter: 42 }),
    503: ErrorAnswer('budget_exhausted (the global sending budget), captcha_unavailable (the captcha provider did not answer) or unavailable (Redis cannot be reached); retry after `Retry-After`.', { error: 'unavailable', message: 'the service is temporarily unavailable' }),
    ...errorResponses(413, 415, 422),
  },
}

export const smsCodeRoutes: FastifyPluginAsyncTypebox<{ send: CodeSender, checkCaptcha: CaptchaGate }> = async (app, { send, checkCaptcha }) => {
  // The general per-IP limit is counted inside the send script (one round trip), not by the plugin.
  app.post('/v1/sms-codes', { schema, config: { rateLimit: false } }, async (request, reply) => {
    const idempotencyKey = idempotencyKeyOf(request.headers)
    const { mobile, purpose } = request.body
    await checkCaptcha(request.body, request)
    const body = await send({ mobile, purpose, client: request.clientKey, idempotencyKey }, request)
    return reply.code(202).send(body)
  })
}
