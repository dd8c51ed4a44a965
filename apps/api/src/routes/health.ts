import type { RedisClient } from '@sms-verify/shared'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { errorResponses, errors } from '../errors.js'

const Ok = Type.Object({ status: Type.Literal('ok') })

/** `clients`: every Redis client a request may need (the main one, and the WAIT client when set). */
export const healthRoutes: FastifyPluginAsyncTypebox<{ clients: readonly RedisClient[] }> = async (app, { clients }) => {
  app.get('/healthz', { schema: { summary: 'Liveness', tags: ['ops'], response: { 200: Ok } } }, async () => ({ status: 'ok' as const }))
  app.get('/readyz', { schema: { summary: 'Readiness: Redis answers', tags: ['ops'], response: { 200: Ok, ...errorResponses(503) } } }, async () => {
    // FAIL_FAST makes this reject at once while disconnected, and within commandTimeout otherwise.
    await Promise.all(clients.map((c) => c.ping())).catch(() => { throw errors.unavailable() })
    return { status: 'ok' as const }
  })
}
