import fp from 'fastify-plugin'
import type { TrustProxy } from '@sms-verify/shared'
import { clientAddress, trustOf } from '../client-address.js'
import { clientKey } from '../client-key.js'
import { errors } from '../errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** the client's per-IP key (client-key.ts): every per-IP limit and key uses it, and nothing else */
    clientKey: string
    /** the client's address as TRUST_PROXY and X-Forwarded-For tell it (for a captcha provider; limits use clientKey) */
    clientAddress: string
  }
}

/**
 * Settles who the client is once per request, before any limit runs (register it before the
 * rate limiter). A request whose address cannot be known (the connection closed before it
 * was handled and the socket no longer says who it was) is refused here, without touching
 * Redis, so it is never counted against anyone else.
 */
export const clientPlugin = fp<{ trustProxy: TrustProxy | undefined }>(async (app, { trustProxy }) => {
  const trust = trustOf(trustProxy)
  // A socket forgets its peer once it is closed, but keeps what it was asked while open:
  // asking when the connection arrives makes a reset connection's address still known later.
  app.server.on('connection', (socket: { remoteAddress?: string }) => void socket.remoteAddress)
  app.decorateRequest('clientKey', '')
  app.decorateRequest('clientAddress', '')
  app.addHook('onRequest', async (request) => {
    const forwarded = request.headers['x-forwarded-for']
    const address = clientAddress(request.raw.socket?.remoteAddress, Array.isArray(forwarded) ? forwarded.join(',') : forwarded, trust)
    const key = clientKey(address)
    if (key === undefined) throw errors.clientUnknown()
    request.clientKey = key
    request.clientAddress = address!
  })
}, { name: 'sms-client' })
