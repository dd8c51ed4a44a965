import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { errorResponses, errors } from '../errors.js'

const Ok = Type.Object({ status: Type.Literal('ok') })

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/healthz', { schema: { summary: 'Liveness', tags: ['ops'], response: { 200: Ok } } }, async () => ({ status: 'ok' as const }))
  app.get('/readyz', { schema: { summary: 'Readiness: Redis answers', tags: ['ops'], response: { 200: Ok, ...errorResponses(503) } } }, async () => {
    // FAIL_FAST makes this reject at once while disconnected, and within commandTimeout otherwise.
    await app.redis.ping().catch(() => { throw errors.unavailable() })
    return { status: 'ok' as const }
  })
}
