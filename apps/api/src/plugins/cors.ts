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
 * @fastify/cors answers a preflight inside its own onRequest hook, before
 * the host check could run, so an OPTIONS request to a host we do not serve
 * is refused by a hook ahead of it, with the CORS headers it would have
 * added. (A per-request delegator did the same by switching the preflight
 * off, but made @fastify/cors normalise its options on every request: 3 %
 * of the send route's CPU.)
 */
export const corsPlugin = fp<{ origins: readonly string[], hostPolicy: HostPolicy | null }>(async (app, { origins, hostPolicy }) => {
  const options: FastifyCorsOptions = { origin: [...origins], credentials: true, exposedHeaders: [...EXPOSED_HEADERS] }
  if (hostPolicy === null) {
    await app.register(cors, options)
    return
  }
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'OPTIONS' || hostPolicy(request.raw)) return
    reply.headers(edgeHeaders(request.headers.origin, origins))
    throw errors.invalidHost()
  })
  await app.register(cors, options)
}, { name: 'sms-cors' })
