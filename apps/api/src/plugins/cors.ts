import fp from 'fastify-plugin'
import cors, { type FastifyCorsOptions } from '@fastify/cors'
import { errors } from '../errors.js'
import { EXPOSED_HEADERS } from '../edge/limits.js'
import { edgeHeaders } from '../edge/raw-answer.js'
import type { HostPolicy } from './host-check.js'

/**
 * CORS for the allowed origins, on every answer. Registered before the
 * refusals (host, rate limit, 404, 413) so they carry its headers.
 *
 * Every request but a preflight gets the headers @fastify/cors would add, from
 * values settled once: @fastify/cors copies its options and builds a closure
 * per request, about 3 % of the send route's CPU. Preflights (OPTIONS) are
 * @fastify/cors's own, in a context whose only route is its `OPTIONS *`, so its
 * hook runs for them alone and answers them before the later refusals' hooks,
 * as it did when it ran for every request. An OPTIONS request to a host we do
 * not serve is refused ahead of it, with the CORS headers it would have added.
 */
export const corsPlugin = fp<{ origins: readonly string[], hostPolicy: HostPolicy | null }>(async (app, { origins, hostPolicy }) => {
  const anyOrigin = origins.includes('*')
  const allowed: ReadonlySet<string> = new Set(origins)
  const exposed = EXPOSED_HEADERS.join(', ')
  app.addHook('onRequest', (request, reply, done) => {
    if (request.method !== 'OPTIONS') {
      const origin = request.headers.origin
      // one answer for every origin needs no Vary; a reflected origin does
      if (anyOrigin) {
        reply.header('access-control-allow-origin', '*')
      } else {
        reply.header('vary', 'Origin')
        if (origin !== undefined && allowed.has(origin)) reply.header('access-control-allow-origin', origin)
      }
      reply.header('access-control-allow-credentials', 'true')
      reply.header('access-control-expose-headers', exposed)
    }
    done()
  })

  const options: FastifyCorsOptions = { origin: [...origins], credentials: true, exposedHeaders: [...EXPOSED_HEADERS] }
  await app.register(async (preflights) => {
    if (hostPolicy !== null) {
      preflights.addHook('onRequest', async (request, reply) => {
        if (hostPolicy(request.raw)) return
        reply.headers(edgeHeaders(request.headers.origin, origins))
        throw errors.invalidHost()
      })
    }
    await preflights.register(cors, options)
  })
}, { name: 'sms-cors' })
