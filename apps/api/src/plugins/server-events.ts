import fp from 'fastify-plugin'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { errors } from '../errors.js'
import { trackRequest } from '../edge/in-flight.js'
import { SERVED_METHODS } from '../edge/limits.js'
import { lingerThenClose } from '../edge/linger.js'
import { answerOnSocket, edgeHeaders } from '../edge/raw-answer.js'

/**
 * The HTTP server's events that never reach a Fastify route: CONNECT (Node
 * would drop the connection), an `Expect` other than 100-continue (Node would
 * answer an empty 417), and the tracking of each connection's current
 * request for the answers written on the raw socket.
 */
export const serverEventsPlugin = fp<{ corsOrigins: readonly string[] }>(async (app, { corsOrigins }) => {
  app.server.on('request', trackRequest)

  app.server.on('connect', (req: IncomingMessage, socket: Socket) => {
    socket.resume() // a tunnel's bytes may follow: read and drop them, so the close is not a reset
    answerOnSocket(socket, errors.methodNotAllowed(SERVED_METHODS), edgeHeaders(req.headers.origin, corsOrigins))
  })

  app.server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const e = errors.expectationFailed()
    lingerThenClose(req.socket)
    res.writeHead(e.statusCode, { ...edgeHeaders(req.headers.origin, corsOrigins), 'content-type': 'application/json; charset=utf-8', connection: 'close' })
    res.end(JSON.stringify(e.body()))
  })
}, { name: 'sms-server-events' })
