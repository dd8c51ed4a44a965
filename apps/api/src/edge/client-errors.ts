import type { Socket } from 'node:net'
import type { ConnectionError, FastifyInstance } from 'fastify'
import { errors, type ApiError } from '../errors.js'
import { requestInProgress } from './in-flight.js'
import { MAX_URL_LENGTH, SERVED_METHODS } from './limits.js'
import { isLingering } from './linger.js'
import { answerOnSocket, edgeHeaders } from './raw-answer.js'

/** What Node hands the clientError event; Fastify's type says rawPacket is JSON, it is the Buffer that failed to parse. */
interface ClientError { code?: string | undefined, rawPacket?: Buffer | undefined }

const asClientError = (err: ConnectionError): ClientError =>
  ({ code: err.code, rawPacket: Buffer.isBuffer(err.rawPacket) ? err.rawPacket : undefined })

/** A request line too long to be the start of headers: no line end within the URL limit. */
function requestLineTooLong(packet: string): boolean {
  const lineEnd = packet.indexOf('\n')
  return /^[A-Z]+ /.test(packet) && (lineEnd === -1 || lineEnd > MAX_URL_LENGTH)
}

/** Node's parser errors → the contract's answers. */
export function parserError(err: ClientError, requestTimeoutMs: number): ApiError {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT': return errors.requestTimeout(requestTimeoutMs)
    // Node counts the request line into the header limit: a huge URL overflows it too.
    case 'HPE_HEADER_OVERFLOW': return requestLineTooLong(err.rawPacket?.toString('latin1') ?? '') ? errors.uriTooLong() : errors.headersTooLarge()
    // A method is a token; bytes that are not (a TLS hello on the plain port) are just not HTTP.
    case 'HPE_INVALID_METHOD': return /^[\w!#$%&'*+.^`|~-]+ /.test(err.rawPacket?.toString('latin1') ?? '') ? errors.methodNotAllowed(SERVED_METHODS) : errors.badRequest()
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW': return errors.payloadTooLarge()
    default: return errors.badRequest()
  }
}

/**
 * The Origin of the request that failed: the one in progress on the
 * connection, or else the Origin line of the bytes that failed to parse. Only
 * used when it is an allowed origin, so nothing of the request is echoed.
 */
function originOf(socket: Socket, rawPacket: Buffer | undefined): string | undefined {
  const inProgress = requestInProgress(socket)
  if (inProgress) return inProgress.req.headers.origin
  const line = /\norigin:[ \t]*([^\r\n]*)/i.exec(rawPacket?.toString('latin1') ?? '')
  return line?.[1]?.trim()
}

/**
 * Fastify's clientErrorHandler: what a request Node's parser refused (bad
 * framing, bad header bytes, oversized headers, an unknown method, a timeout)
 * gets, instead of Node's or Fastify's bodies. The parser repeats its error
 * for every later byte on the connection, so one answer per connection.
 */
export function clientErrorHandler(allowedOrigins: readonly string[], requestTimeoutMs: number) {
  return function onClientError(this: FastifyInstance, connectionError: ConnectionError, socket: Socket): void {
    const err = asClientError(connectionError)
    if (err.code === 'ECONNRESET' || socket.destroyed || isLingering(socket)) return
    if (requestInProgress(socket)?.res.headersSent) {
      socket.destroy() // an answer is half written: nothing sensible can follow it
      return
    }
    const e = parserError(err, requestTimeoutMs)
    this.log.debug({ code: err.code, status: e.statusCode }, 'client error answered')
    answerOnSocket(socket, e, edgeHeaders(originOf(socket, err.rawPacket), allowedOrigins))
  }
}
