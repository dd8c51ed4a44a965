import { createServer, type Server } from 'node:http'
import type { SenderMetrics } from './metrics.js'

/** `/metrics` (Prometheus text) and `/healthz` on METRICS_PORT; nothing else. */
export function createMetricsServer(metrics: SenderMetrics): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
      return
    }
    if (req.method === 'GET' && path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end('metrics unavailable\n'))
      return
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found","message":"Not found"}')
  })
}
