import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { completeDocument, type OpenApiDocument } from '../openapi.js'

/**
 * OpenAPI 3 built from the route schemas; register before the routes so it sees them.
 * completeDocument adds what the global plugins answer on every route (see openapi.ts).
 * `/openapi.json` and `/docs/json` serve the same cached document.
 */
export const docsPlugin = fp(async (app) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'sms-verify', version: '1.0.0', description: 'SMS verification codes: send, verify, status, bulk notifications.' },
      servers: [{ url: '/', description: 'the address this document was read from' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transformObject: (document) => completeDocument((document as unknown as { openapiObject: OpenApiDocument }).openapiObject) as never,
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}, { name: 'sms-docs' })
