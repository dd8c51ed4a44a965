import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'

/** How long, and how many bytes, a connection is read after an early answer before it is cut. */
export const LINGER_MS = 5_000
export const LINGER_BYTES = 8 * 1024 * 1024

const lingering = new WeakSet<Socket>()

/** True once an answer went out on this connection while its request was still arriving. */
export const isLingering = (socket: Socket): boolean => lingering.has(socket)

/**
 * The request announced a body (Content-Length above 0, or any
 * Transfer-Encoding) that has not been read to its end. (`complete` is
 * undefined under inject, where there is no wire.)
 */
export function bodyUnread(req: IncomingMessage): boolean {
  const announced = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0
  return announced && req.complete === false
}

/**
 * Closes a connection whose request is still arriving without resetting it:
 * Apache's "lingering close". Node ends such a connection (after a
 * `Connection: close` answer) with destroySoon(), which closes the socket the
 * moment the answer is written; the bytes the client is still sending then
 * meet a closed socket, the kernel answers them with RST, and the client's
 * kernel throws away the answer it had not read yet (issue 14: a 413 lost in
 * 22 % of 2 MB uploads). Instead: send FIN after the answer, keep reading and
 * discarding until the client closes, and cut after LINGER_MS or LINGER_BYTES.
 */
export function lingerThenClose(socket: Socket): void {
  if (lingering.has(socket) || socket.destroyed || typeof socket.destroySoon !== 'function') return
  lingering.add(socket)
  socket.destroySoon = () => {
    if (socket.writable) socket.end()
  }
  const start = socket.bytesRead
  const deadline = Date.now() + LINGER_MS
  const watch = setInterval(() => {
    if (Date.now() >= deadline || socket.bytesRead - start > LINGER_BYTES) socket.destroy()
  }, 100)
  watch.unref()
  socket.once('close', () => clearInterval(watch))
  // The client read the answer and closed: nothing more can arrive, so close once the answer is out.
  socket.once('end', () => {
    if (socket.writableFinished) socket.destroy()
    else socket.once('finish', () => socket.destroy())
  })
}
