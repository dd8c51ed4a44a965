import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

/**
 * The request each connection is working on, so an answer written on the
 * raw socket (a timeout mid-body, bad chunk framing) can carry CORS headers
 * for its Origin, and is never written over an answer already under way.
 */
const current = new WeakMap<Socket, { req: IncomingMessage, res: ServerResponse }>()

export function trackRequest(req: IncomingMessage, res: ServerResponse): void {
  current.set(req.socket, { req, res })
}

/** The connection's request whose bytes are still arriving, if any. */
export function requestInProgress(socket: Socket): { req: IncomingMessage, res: ServerResponse } | undefined {
  const entry = current.get(socket)
  return entry && !entry.req.complete ? entry : undefined
}
