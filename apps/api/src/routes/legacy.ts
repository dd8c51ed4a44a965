import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { LEGACY_MOBILE_PATTERN } from '@sms-verify/shared'
import { ApiError } from '../errors.js'
import { sendError } from '../plugins/error-handler.js'
import type { CodeSender } from '../send-code.js'
import type { CaptchaGate } from '../captcha/gate.js'
import { CaptchaRandstr, CaptchaToken } from '../schemas.js'

const LegacyError = Type.Object({
  message: Type.String({ examples: ['频繁发送短信'] }),
  error: Type.String({ examples: ['too_frequent'] }),
  retryAfter: Type.Optional(Type.Integer()),
}, { additionalProperties: true })

const schema = {
  summary: 'Send a register code (path of the original Django service)',
  description: 'Compatibility route: purpose register; answers `{message}` as the original did.',
  tags: ['legacy'],
  params: Type.Object({ mobile: Type.String({ examples: ['13812345678'] }) }),
  querystring: Type.Object({ captchaToken: CaptchaToken, captchaRandstr: CaptchaRandstr }),
  response: { 200: Type.Object({ message: Type.Literal('ok') }), 400: LegacyError, 403: LegacyError, 404: LegacyError, 429: LegacyError, 503: LegacyError },
}

const LEGACY_MOBILE = new RegExp(LEGACY_MOBILE_PATTERN)

export const legacyRoutes: FastifyPluginAsyncTypebox<{ send: CodeSender, checkCaptcha: CaptchaGate }> = async (app, { send, checkCaptcha }) => {
  for (const url of ['/sms_codes/:mobile', '/sms_codes/:mobile/']) {
    // The general per-IP limit is counted inside the send script (one round trip), not by the plugin.
    app.get(url, { schema, config: { rateLimit: false } }, async (request, reply) => {
      if (!LEGACY_MOBILE.test(request.params.mobile)) {
        return sendError(reply, new ApiError(404, 'invalid_mobile', 'mobile must be 11 digits starting 1[3-9]'))
      }
      try {
        await checkCaptcha({ mobile: request.params.mobile, purpose: 'register', ...request.query }, request)
        await send({ mobile: request.params.mobile, purpose: 'register', ip: request.ip }, request)
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
