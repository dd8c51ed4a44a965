import fp from 'fastify-plugin'
import type { RedisClient } from '@sms-verify/shared'

declare module 'fastify' {
  interface FastifyInstance {
    redis: RedisClient
  }
}

/**
 * Shares the client with every route and closes it, and the WAIT client when there is one,
 * with the app.
 */
export const redisPlugin = fp<{ client: RedisClient, waitClient?: RedisClient | undefined }>(async (app, { client, waitClient }) => {
  app.decorate('redis', { getter: () => client })
  app.addHook('onClose', async () => {
    // quit waits for replies in flight; when Redis is gone it rejects at once and we just drop the socket
    await Promise.all([client, waitClient].filter((c) => c !== undefined).map((c) => c.quit().catch(() => c.disconnect())))
  })
}, { name: 'sms-redis' })
