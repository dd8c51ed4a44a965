// Which configured ports are taken, checked before anything starts, so a busy
// port is one line naming the variable instead of a child's stack trace.
import { createServer } from 'node:net'

/** Resolves true when something already listens on host:port (or it cannot be bound). */
export function portTaken(host, port) {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(true))
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(false)))
  })
}

/** The first of `[variable, host, port]` whose port is taken, or undefined. */
export async function firstTaken(ports) {
  for (const [variable, host, port] of ports) if (await portTaken(host, port)) return { variable, host, port }
  return undefined
}
