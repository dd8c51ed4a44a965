import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyRequest } from 'fastify'
import { LEGACY_MOBILE_PATTERN } from '@sms-verify/shared'
import { ApiError, errors } from '../errors.js'
import { sendError } from '../plugins/error-handler.js'
import type { CodeSender } from '../send/index.js'
import type { CaptchaGate } from '../captcha/gate.js'
import { CaptchaRandstr, CaptchaToken } from '../schemas.js'

const LegacyErrorFields = {
  message: Type.String(),
  error: Type.String(),
  retryAfter: Type.Optional(Type.Integer()),
}
const LegacyErrorBody = Type.Object(LegacyErrorFields)

/** Every legacy answer has `message`, as the original's did, and may have `error`. */
const LegacyError = (description: string, example: Static<typeof LegacyErrorBody>) =>
  Type.Object(LegacyErrorFields, { additionalProperties: true, description, examples: [example] })

const schema = {
  summary: 'Send a register code (path of the original Django service)',
  description: 'Compatibility route: purpose register; answers `{message}` as the original did. A browser request from another site (`Sec-Fetch-Site: cross-site` without an allowed `Origin`) is refused with 403 cross_site: an image tag on any page must not send SMS. Served with and without the trailing slash (the original path is `/sms_codes/{mobile}/`).',
  operationId: 'sendLegacyCode',
  tags: ['legacy'],
  params: Type.Object({ mobile: Type.String({ examples: ['13812345678'] }) }),
  querystring: Type.Object({ captchaToken: CaptchaToken, captchaRandstr: CaptchaRandstr }),
  response: {
    200: Type.Object({ message: Type.Literal('ok') }, { description: 'The code is queued for sending.' }),
    400: LegacyError('too_frequent: a code was sent to this number in the last RESEND_INTERVAL_SECONDS (the original sentence); captcha_required with CAPTCHA_PROVIDER set and no captchaToken.', { message: '频繁发送短信', error: 'too_frequent', retryAfter: 42 }),
    403: LegacyError('cross_site: a browser request from another site without an allowed Origin; captcha_failed: the captcha provider refused the token.', { message: 'the captcha was not accepted; solve it again (a token is good for one send)', error: 'captcha_failed' }),
    404: LegacyError('invalid_mobile: not 11 digits starting 1[3-9].', { message: 'mobile must be 11 digits starting 1[3-9]', error: 'invalid_mobile' }),
    429: LegacyError('rate_limited (per IP), daily_limit (per number) or carrier_limit; `Retry-After` says when to try again.', { message: 'too many requests from this address', error: 'rate_limited', retryAfter: 42 }),
    503: LegacyError('budget_exhausted, captcha_unavailable or unavailable; retry after `Retry-After`.', { message: 'the service is temporarily unavailable', error: 'unavailable' }),
  },
}

const LEGACY_MOBILE = new RegExp(LEGACY_MOBILE_PATTERN)

/**
 * A GET is a simple request: any page can make its visitors' browsers send it (an image tag
 * will do), each from the visitor's own address. Browsers say where such a request comes
 * from; an allowed Origin (a page of ours that calls from another site) may still send.
 */
function crossSite(request: FastifyRequest, allowedOrigins: ReadonlySet<string>): boolean {
  if (request.headers['sec-fetch-site'] !== 'cross-site') return false
  const origin = request.headers.origin
  return origin === undefined || !(allowedOrigins.has(origin) || allowedOrigins.has('*'))
}

export const legacyRoutes: FastifyPluginAsyncTypebox<{ send: CodeSender, checkCaptcha: CaptchaGate, corsOrigins: readonly string[] }> = async (app, { send, checkCaptcha, corsOrigins }) => {
  const allowedOrigins = new Set(corsOrigins)
  for (const url of ['/sms_codes/:mobile', '/sms_codes/:mobile/']) {
    // The general per-IP limit is counted inside the send script (one round trip), not by the plugin.
    // One documented operation: the trailing-slash twin is the same route (and linters flag such paths).
    app.get(url, { schema: url.endsWith('/') ? { ...schema, hide: true } : schema, config: { rateLimit: false } }, async (request, reply) => {
      if (crossSite(request, allowedOrigins)) return sendError(reply, errors.crossSite())
      if (!LEGACY_MOBILE.test(request.params.mobile)) {
        return sendError(reply, new ApiError(404, 'invalid_mobile', 'mobile must be 11 digits starting 1[3-9]'))
      }
      try {
        await checkCaptcha({ mobile: request.params.mobile, purpose: 'register', ...request.query }, request)
        await send({ mobile: request.params.mobile, purpose: 'register', client: request.clientKey }, request)
        return reply.code(200).send({ message: 'ok' })
      } catch (err) {
        // The original answered 400 with this sentence; the other refusals keep their v1 status.
        if (err instanceof ApiError && err.error === 'too_frequent') {
          return sendError(reply, new ApiError(400, err.error, '频繁发送短信', err.fields, err.headers))
        }
        throw err
      }
    })
  }
}
