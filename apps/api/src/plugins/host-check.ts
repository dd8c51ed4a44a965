import fp from 'fastify-plugin'
import { errors } from '../errors.js'

/** Probes connect by IP, so they are exempt (CONTRACT: ALLOWED_HOSTS). */
export const HOST_EXEMPT = new Set(['/healthz', '/readyz', '/metrics'])

export const pathOf = (url: string): string => {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

/** `Host: example.com:8000` → `example.com`; `[::1]:8000` → `[::1]`. */
export function hostName(header: string | undefined): string {
  if (!header) return ''
  const h = header.trim().toLowerCase()
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1)
  const colon = h.indexOf(':')
  return colon === -1 ? h : h.slice(0, colon)
}

/** What Django's ALLOWED_HOSTS did: refuse requests for a Host we do not serve. */
export const hostCheckPlugin = fp<{ allowed: readonly string[] }>(async (app, { allowed }) => {
  if (allowed.includes('*')) return
  const hosts = new Set(allowed.map((h) => h.toLowerCase()))
  app.addHook('onRequest', async (request) => {
    if (HOST_EXEMPT.has(pathOf(request.url))) return
    if (!hosts.has(hostName(request.headers.host))) throw errors.invalidHost()
  })
}, { name: 'sms-host-check' })
