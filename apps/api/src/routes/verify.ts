import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { codeHmac, partitionIndexOf } from '@sms-verify/shared'
import type { ApiContext } from '../context.js'
import { errorResponses, errors, refusal } from '../errors.js'
import { ErrorAnswer, Mobile, Purpose } from '../schemas.js'
import { admitMobile } from '../send-code.js'
import type { TokenIssuer } from '../tokens/issuer.js'

const schema = {
  summary: 'Check a code',
  operationId: 'verifyCode',
  description: 'A right code is used up (200 once, then 404). Wrong tries count down attemptsLeft; the last one burns the code (429 until it expires, even with the right code). Wrong tries are also capped per number across codes in 24 h (VERIFY_MAX_FAILURES_PER_DAY). A code that is not 4 to 10 digits is refused with 400 invalid_code and does not count as a try.',
  tags: ['codes'],
  body: Type.Object({
    mobile: Mobile,
    purpose: Purpose,
    code: Type.String({ pattern: '^\\d{4,10}$', examples: ['042917'] }),
  }, { additionalProperties: false, examples: [{ mobile: '13812345678', purpose: 'register', code: '042917' }] }),
  response: {
    200: Type.Object({
      verified: Type.Literal(true),
      token: Type.Optional(Type.String({ description: 'with VERIFICATION_TOKEN_KEY: a signed JWT (ES256/EdDSA) a backend checks against /.well-known/jwks.json; claims iss, sub (E.164), purpose, aud, iat, exp, jti (the requestId)' })),
    }, { description: 'The code is right and is now used up (with a signed token when VERIFICATION_TOKEN_KEY is set).' }),
    400: ErrorAnswer('wrong_code (with `attemptsLeft`), invalid_code, invalid_mobile, invalid_purpose or invalid_body.', { error: 'wrong_code', message: 'the code is wrong', attemptsLeft: 3 }),
    404: ErrorAnswer('no_code: none was sent for this number and purpose, or it expired or was used.', { error: 'no_code', message: 'no valid code for this number and purpose (none sent, expired or used)' }),
    429: ErrorAnswer('too_many_attempts (the code is burnt, or the number had too many wrong tries in 24 h) or rate_limited; `Retry-After` says when to try again.',
      { error: 'too_many_attempts', message: 'too many wrong codes; ask for a new code later', retryAfter: 60 }),
    ...errorResponses(413, 415, 503),
  },
}

export const verifyRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext, issueToken?: TokenIssuer | undefined }> = async (app, { ctx, issueToken }) => {
  const { config } = ctx
  app.post('/v1/sms-codes/verify', { schema }, async (request) => {
    const { purpose, code } = request.body
    const mobile = admitMobile(request.body.mobile, config.ALLOWED_REGIONS)
    const k = ctx.partitions[partitionIndexOf(mobile, ctx.partitions.length)]!
    const reply = await app.redis.smsVerify(k.code(mobile, purpose), k.verifyFailures(mobile), ctx.now(),
      codeHmac(ctx.pepper, mobile, purpose, code), config.VERIFY_MAX_ATTEMPTS, config.VERIFY_MAX_FAILURES_PER_DAY, k.requestPrefix)
    const outcome = String(reply[0])
    app.metrics.verify.inc({ outcome })
    request.logEvent = { event: 'code checked', mobile, purpose, outcome, ...(outcome === 'verified' ? { requestId: reply[1] } : {}) }
    switch (outcome) {
      case 'verified': {
        if (!issueToken) return { verified: true as const }
        const token = await issueToken({ mobile, purpose, requestId: String(reply[1]) })
        app.metrics.tokensIssued.inc()
        return { verified: true as const, token }
      }
      case 'wrong_code': throw errors.wrongCode(Number(reply[1]))
      case 'no_code': throw errors.noCode()
      default: throw refusal(outcome, Number(reply[1] ?? 1000))
    }
  })
}
