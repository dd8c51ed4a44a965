import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { CodeChecker } from '../check-code.js'
import type { ApiContext } from '../context.js'
import { errorResponses, errors } from '../errors.js'
import { ErrorAnswer, Mobile, Purpose } from '../schemas.js'
import { admitMobile } from '../admit-mobile.js'
import type { TokenIssuer } from '../tokens/issuer.js'

const schema = {
  summary: 'Check a code',
  operationId: 'verifyCode',
  description: 'A right code is used up (200 once, then 404). Wrong tries count down attemptsLeft. The client address that asked for the code has its own VERIFY_MAX_ATTEMPTS wrong tries; every other address shares another VERIFY_MAX_ATTEMPTS. The requester\'s last wrong try burns the code (429 until it expires, even with the right code); the others\' last one closes it to all but the requester. Wrong tries are also capped per number and client address across codes in 24 h (VERIFY_MAX_FAILURES_PER_DAY). A 429 carries retryAfter: when a new code may be asked for, or when this address may try again. A code that is not 4 to 10 digits is refused with 400 invalid_code and does not count as a try. A backend that verifies on behalf of its users must forward their address (X-Forwarded-For, with TRUST_PROXY).',
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
    429: ErrorAnswer('too_many_attempts (the code is burnt or closed to this address: `Retry-After` says when a new code may be asked for; or this address had too many wrong tries on the number in 24 h: when it may try again) or rate_limited.',
      { error: 'too_many_attempts', message: 'too many wrong codes; ask for a new code later', retryAfter: 60 }),
    ...errorResponses(413, 415, 503),
  },
}

export const verifyRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext, checkCode: CodeChecker, issueToken?: TokenIssuer | undefined }> = async (app, { ctx, checkCode, issueToken }) => {
  const { config } = ctx
  // The general per-IP limit is counted with the check itself (check-code.ts), not by the plugin.
  app.post('/v1/sms-codes/verify', { schema, config: { rateLimit: false } }, async (request) => {
    const { purpose, code } = request.body
    const mobile = admitMobile(request.body.mobile, config.ALLOWED_REGIONS)
    const outcome = await checkCode({ mobile, purpose, code, client: request.clientKey })
    if (outcome.kind === 'rate_limited') throw errors.rateLimited(outcome.retryAfterMs)
    // 'burnt' in the metric and the log: this try was a wrong guess that closed the code or the day
    const label = outcome.kind === 'too_many_attempts' && outcome.guessed ? 'burnt' : outcome.kind
    app.metrics.verify.inc({ outcome: label })
    request.logEvent = { event: 'code checked', mobile, purpose, outcome: label, ...(outcome.kind === 'verified' ? { requestId: outcome.requestId } : {}) }
    switch (outcome.kind) {
      case 'verified': {
        if (!issueToken) return { verified: true as const }
        const token = await issueToken({ mobile, purpose, requestId: outcome.requestId })
        app.metrics.tokensIssued.inc()
        return { verified: true as const, token }
      }
      case 'wrong_code': throw errors.wrongCode(outcome.attemptsLeft)
      case 'no_code': throw errors.noCode()
      case 'too_many_attempts': throw errors.tooManyAttempts(outcome.retryAfterMs)
    }
  })
}
