import { createServer, type Server } from 'node:http'
import type { Registry } from 'prom-client'

/**
 * The API's `/metrics` on its own listener (API_METRICS_PORT on METRICS_HOST),
 * so the public port need not expose them to every client. Nothing else is
 * served there: every other path is 404.
 */
export function createApiMetricsServer(registry: Registry): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found","message":"no such route"}')
      return
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal","message":"metrics unavailable"}'))
  })
}
