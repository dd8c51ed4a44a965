import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

const schema = {
  hide: true,
  response: {
    200: Type.Object({ message: Type.String(), docs: Type.String(), openapi: Type.String(), health: Type.String() }),
  },
}

/** `GET /`: where to start reading, for whoever opens the API's address in a browser or with curl. */
export const rootRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', { schema }, async () => ({
    message: 'sms-verify: SMS verification codes. The API reference is at /docs.',
    docs: '/docs',
    openapi: '/openapi.json',
    health: '/healthz',
  }))
}
