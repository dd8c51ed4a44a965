import fp from 'fastify-plugin'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { errors } from '../errors.js'
import { bodyUnread, lingerThenClose } from '../edge/linger.js'

const wantsContinue = (req: IncomingMessage): boolean => req.headers.expect?.toLowerCase() === '100-continue'

/**
 * Answers given while the request body is still on the wire (413, 415, a
 * refused token, a wrong host): `Connection: close`, then a lingering close,
 * so the client reads the whole answer instead of a reset.
 *
 * `Expect: 100-continue`: Node would send 100 Continue before any hook runs,
 * inviting a body that is then refused. Here 100 goes out only when the route
 * is about to read the body and its announced length fits; every earlier
 * refusal (host, token, rate limit, length) is the final answer instead.
 */
export const unreadBodyPlugin = fp(async (app) => {
  app.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => app.server.emit('request', req, res))

  app.addHook('preParsing', (request, reply, payload, done) => {
    if (!wantsContinue(request.raw) || !bodyUnread(request.raw)) return done(null, payload)
    if (Number(request.headers['content-length'] ?? 0) > request.routeOptions.bodyLimit) return done(errors.payloadTooLarge())
    reply.raw.writeContinue()
    done(null, payload)
  })

  app.addHook('onSend', (request, reply, payload, done) => {
    if (bodyUnread(request.raw)) {
      reply.header('connection', 'close')
      lingerThenClose(request.raw.socket)
    }
    done(null, payload)
  })
}, { name: 'sms-unread-body' })
