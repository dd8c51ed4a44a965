import fp from 'fastify-plugin'

/**
 * Routes whose answers speak of codes and their requests: no cache may keep
 * them (CONTRACT: Hardening, Headers). Route URLs as registered; a test holds
 * each to a real route.
 */
export const NO_STORE_ROUTES: ReadonlySet<string> = new Set([
  '/v1/sms-codes', '/v1/sms-codes/verify', '/v1/sms-codes/requests/:requestId', '/sms_codes/:mobile', '/sms_codes/:mobile/',
])

/**
 * Headers every answer carries, set when the request arrives so that every
 * later refusal keeps them. Answers written outside the hooks (parser errors,
 * routing errors) get them from edge/raw-answer.ts.
 */
export const securityHeadersPlugin = fp(async (app) => {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-content-type-options', 'nosniff')
    if (NO_STORE_ROUTES.has(request.routeOptions.url ?? '')) reply.header('cache-control', 'no-store')
    done()
  })
}, { name: 'sms-security-headers' })
