import fp from 'fastify-plugin'
import type { RedisClient } from '@sms-verify/shared'

declare module 'fastify' {
  interface FastifyInstance {
    redis: RedisClient
  }
}

/** Shares the client with every route and closes it with the app. */
export const redisPlugin = fp<{ client: RedisClient }>(async (app, { client }) => {
  app.decorate('redis', { getter: () => client })
  app.addHook('onClose', async () => {
    // quit waits for replies in flight; when Redis is gone it rejects at once and we just drop the socket
    await client.quit().catch(() => client.disconnect())
  })
}, { name: 'sms-redis' })
