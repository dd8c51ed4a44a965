import fp from 'fastify-plugin'
import { collectDefaultMetrics, Counter, Registry } from 'prom-client'

export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  return {
    registry,
    requests: new Counter({ name: 'sms_api_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    issued: new Counter({ name: 'sms_codes_issued_total', help: 'codes accepted and queued', labelNames: ['purpose'], registers: [registry] }),
    refused: new Counter({ name: 'sms_codes_refused_total', help: 'code requests refused, by reason', labelNames: ['reason'], registers: [registry] }),
    verify: new Counter({ name: 'sms_verify_total', help: 'verify outcomes', labelNames: ['outcome'], registers: [registry] }),
    tokensIssued: new Counter({ name: 'sms_verification_tokens_issued_total', help: 'verification tokens signed', registers: [registry] }),
    captcha: new Counter({ name: 'sms_captcha_total', help: 'captcha checks on sends, by provider and outcome', labelNames: ['provider', 'outcome'], registers: [registry] }),
  }
}
export type Metrics = ReturnType<typeof createMetrics>

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

/**
 * A registry per app instance, so two apps in one process (tests) never share counters.
 * `publicRoute`: serve GET /metrics on the app itself; off when main.ts serves it on API_METRICS_PORT.
 */
export const metricsPlugin = fp<{ publicRoute: boolean }>(async (app, { publicRoute }) => {
  const metrics = createMetrics()
  app.decorate('metrics', metrics)
  app.addHook('onResponse', async (request, reply) => {
    metrics.requests.inc({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status: reply.statusCode })
  })
  if (!publicRoute) return
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(metrics.registry.contentType)
    return metrics.registry.metrics()
  })
}, { name: 'sms-metrics' })
