import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { ApiError } from '../errors.js'
import { EXPOSED_HEADERS } from './limits.js'
import { lingerThenClose } from './linger.js'

/**
 * The headers of an answer written outside Fastify's hooks (parser errors,
 * CONNECT, undecodable URLs): nosniff, no-store, and the CORS headers
 * @fastify/cors would add for this origin.
 */
export function edgeHeaders(origin: string | undefined, allowedOrigins: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', vary: 'Origin' }
  const allowOrigin = allowedOrigins.includes('*') ? '*' : origin !== undefined && allowedOrigins.includes(origin) ? origin : undefined
  if (allowOrigin !== undefined) {
    headers['access-control-allow-origin'] = allowOrigin
    headers['access-control-allow-credentials'] = 'true'
    headers['access-control-expose-headers'] = EXPOSED_HEADERS.join(', ')
  }
  return headers
}

/** A whole HTTP/1.1 answer carrying `e` in the contract's shape; the connection closes after it. */
export function rawAnswer(e: ApiError, headers: Record<string, string>): string {
  const body = JSON.stringify(e.body())
  const lines = [
    `HTTP/1.1 ${e.statusCode} ${STATUS_CODES[e.statusCode] ?? 'Error'}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    ...Object.entries({ ...headers, ...e.headers }).map(([name, value]) => `${name}: ${value}`),
  ]
  return `${lines.join('\r\n')}\r\n\r\n${body}`
}

/** Writes the answer on a connection Node's HTTP server gave up on, then closes it without a reset. */
export function answerOnSocket(socket: Socket, e: ApiError, headers: Record<string, string>): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  socket.write(rawAnswer(e, headers))
  lingerThenClose(socket)
  socket.end()
}
