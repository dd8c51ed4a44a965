import fp from 'fastify-plugin'
import { ApiError, errors } from '../errors.js'
import { SERVED_METHODS } from '../edge/limits.js'
import { sendError } from './error-handler.js'
import { targetPath } from './host-check.js'

/** A route URL (`/v1/sms-codes/requests/:requestId`, `/docs/*`) as a pattern for concrete paths. */
function urlPattern(url: string): RegExp {
  const source = url.split('/').map((part) => {
    if (part === '*') return '.*'
    if (part.startsWith(':')) return '[^/]+'
    return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  }).join('/')
  return new RegExp(`^${source}$`)
}

/** Methods in a stable, familiar order. */
const ordered = (methods: ReadonlySet<string>): string[] => SERVED_METHODS.filter((m) => methods.has(m)).concat([...methods].filter((m) => !SERVED_METHODS.includes(m)).sort())

/**
 * No route for this method and path: 405 with `Allow` when the path has
 * routes for other methods, or when the method is one this API serves
 * nowhere (PUT, DELETE, PROPFIND...); otherwise 404. Routes are learnt as
 * they are registered, so register this before them.
 */
export const notFoundPlugin = fp(async (app) => {
  const routes: Array<{ pattern: RegExp, methods: Set<string> }> = []
  /** methods answered on every path: @fastify/cors's `OPTIONS *` */
  const everywhere = new Set<string>()

  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat()
    if (methods.includes('GET')) methods.push('HEAD')
    if (route.url === '*' || route.url === '/*') methods.forEach((m) => everywhere.add(m))
    else routes.push({ pattern: urlPattern(route.url), methods: new Set(methods) })
  })

  app.setNotFoundHandler((request, reply) => {
    const path = targetPath(request.raw.url ?? '/')
    const matching = routes.filter((r) => r.pattern.test(path))
    if (matching.length > 0) {
      const allow = new Set([...everywhere, ...matching.flatMap((r) => [...r.methods])])
      if (!allow.has(request.method)) return sendError(reply, errors.methodNotAllowed(ordered(allow)))
    } else if (!SERVED_METHODS.includes(request.method)) {
      return sendError(reply, errors.methodNotAllowed(SERVED_METHODS))
    }
    return sendError(reply, new ApiError(404, 'not_found', 'no such route'))
  })
}, { name: 'sms-not-found' })
