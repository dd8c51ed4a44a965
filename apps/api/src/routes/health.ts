import type { RedisClient } from '@sms-verify/shared'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { errors } from '../errors.js'
import { ErrorAnswer } from '../schemas.js'

const Ok = Type.Object({ status: Type.Literal('ok') })

/** `clients`: every Redis client a request may need (the main one, and the WAIT client when set). */
export const healthRoutes: FastifyPluginAsyncTypebox<{ clients: readonly RedisClient[] }> = async (app, { clients }) => {
  app.get('/healthz', {
    schema: { summary: 'Liveness', operationId: 'getHealth', tags: ['ops'], response: { 200: Type.Object(Ok.properties, { description: 'The process runs.' }) } },
  }, async () => ({ status: 'ok' as const }))
  app.get('/readyz', {
    schema: {
      summary: 'Readiness: Redis answers', operationId: 'getReadiness', tags: ['ops'],
      response: {
        200: Type.Object(Ok.properties, { description: 'Redis answers: send traffic here.' }),
        503: ErrorAnswer('unavailable: Redis does not answer; keep traffic away until this is 200.', { error: 'unavailable', message: 'the service is temporarily unavailable' }),
      },
    },
  }, async () => {
    // FAIL_FAST makes this reject at once while disconnected, and within commandTimeout otherwise.
    await Promise.all(clients.map((c) => c.ping())).catch(() => { throw errors.unavailable() })
    return { status: 'ok' as const }
  })
}
