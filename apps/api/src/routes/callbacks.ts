import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { safeEqual, type Config } from '@sms-verify/shared'
import { errors } from '../errors.js'

/**
 * Hook for delivery receipts (issue 10): POST /v1/callbacks/tencent/:token.
 * A placeholder that the receipts work replaces: it checks the token and
 * acknowledges, so Tencent's console can be pointed at it, but records nothing yet.
 */
export const callbackRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  app.post('/v1/callbacks/tencent/:token', {
    schema: { hide: true, params: Type.Object({ token: Type.String() }) },
  }, async (request) => {
    const expected = config.CALLBACK_TOKEN
    if (expected === undefined || !safeEqual(request.params.token, expected)) throw errors.notFound()
    return { result: 0, errmsg: 'OK' }
  })
}
