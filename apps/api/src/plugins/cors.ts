import fp from 'fastify-plugin'
import cors, { type FastifyCorsOptions } from '@fastify/cors'
import { EXPOSED_HEADERS } from '../edge/limits.js'
import type { HostPolicy } from './host-check.js'

/**
 * CORS for the allowed origins, on every answer. Registered before the
 * refusals (host, rate limit, 404, 413) so they carry its headers.
 *
 * @fastify/cors answers a preflight inside its own onRequest hook, before
 * the host check could run. For a request to a host we do not serve the
 * preflight answer is switched off, so the request goes on to the host
 * check and is refused there (with the CORS headers already set).
 */
export const corsPlugin = fp<{ origins: readonly string[], hostPolicy: HostPolicy | null }>(async (app, { origins, hostPolicy }) => {
  const options: FastifyCorsOptions = { origin: [...origins], credentials: true, exposedHeaders: [...EXPOSED_HEADERS] }
  if (hostPolicy === null) {
    await app.register(cors, options)
    return
  }
  const refusedHost: FastifyCorsOptions = { ...options, preflight: false }
  await app.register(cors, { delegator: (request, callback) => callback(null, hostPolicy(request.raw) ? options : refusedHost) })
}, { name: 'sms-cors' })
