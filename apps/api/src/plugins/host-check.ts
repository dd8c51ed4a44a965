import fp from 'fastify-plugin'
import type { IncomingMessage } from 'node:http'
import { errors } from '../errors.js'

/** Probes connect by IP, so they are exempt (CONTRACT: ALLOWED_HOSTS). */
export const HOST_EXEMPT = new Set(['/healthz', '/readyz', '/metrics'])

export const pathOf = (url: string): string => {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

/** `scheme://authority/path`: the absolute form a request target may take (RFC 9112 3.2.2). */
const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)(.*)$/i

/** A host (a name or address, or an IPv6 address in brackets) and an optional numeric port; nothing else (no userinfo). */
const AUTHORITY = /^(\[[0-9a-f:.]+\]|[a-z0-9._~-]+)(?::(\d{1,5}))?$/

/** `example.com:8000` → `example.com`; `[::1]:8000` → `[::1]`; undefined when it is not a host with an optional numeric port. */
export function hostName(authority: string): string | undefined {
  const match = AUTHORITY.exec(authority.trim().toLowerCase())
  if (!match || Number(match[2] ?? 0) > 65535) return undefined
  return match[1]
}

/** The path of a request target, in origin or absolute form. */
export function targetPath(url: string): string {
  const absolute = ABSOLUTE_FORM.exec(url)
  return pathOf(absolute ? absolute[2] || '/' : url)
}

/**
 * Where a request says it is going: the authority of an absolute-form
 * target, which wins over Host (RFC 9112 3.2.2), else its Host header;
 * undefined when that is ambiguous (no Host, or several).
 */
export function requestAuthority(req: IncomingMessage): string | undefined {
  const absolute = ABSOLUTE_FORM.exec(req.url ?? '')
  if (absolute) return absolute[1]
  let host: string | undefined
  let count = 0
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() === 'host') { host = req.rawHeaders[i + 1]; count++ }
  }
  return count === 1 ? host : undefined
}

export type HostPolicy = (req: IncomingMessage) => boolean

/** Whether a request is for a host we serve (or a probe); null when ALLOWED_HOSTS is `*`. */
export function hostPolicy(allowed: readonly string[]): HostPolicy | null {
  if (allowed.includes('*')) return null
  const hosts = new Set(allowed.map((h) => h.toLowerCase()))
  return (req) => {
    if (HOST_EXEMPT.has(targetPath(req.url ?? '/'))) return true
    const authority = requestAuthority(req)
    const name = authority === undefined ? undefined : hostName(authority)
    return name !== undefined && hosts.has(name)
  }
}

/** What Django's ALLOWED_HOSTS did: refuse requests for a host we do not serve. */
export const hostCheckPlugin = fp<{ policy: HostPolicy | null }>(async (app, { policy }) => {
  if (policy === null) return
  app.addHook('onRequest', async (request) => {
    if (!policy(request.raw)) throw errors.invalidHost()
  })
}, { name: 'sms-host-check' })
