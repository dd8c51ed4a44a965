import { isIP } from 'node:net'
import { FormatRegistry } from '@sinclair/typebox'

/**
 * TRUST_PROXY, decoded: how many proxy hops in front of the API append to X-Forwarded-For,
 * or which proxy addresses (IPs, CIDRs, or the names loopback, linklocal, uniquelocal) do.
 * `true` (trust every hop, so the leftmost entry, which the client writes, is the client) is
 * refused at startup.
 */
export type TrustProxy = number | readonly string[]

export const TRUST_PROXY_RANGES: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
}

/** `10.0.0.0/8`, `2001:db8::/32` or a bare address: a valid address and a prefix within its length. */
export function isCidr(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/')
  const version = isIP(address)
  if (version === 0 || extra !== undefined) return false
  if (prefix === undefined) return true
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128)
}

const isTrustProxy = (value: string): boolean => /^\d{1,2}$/.test(value)
  || value.split(',').map((x) => x.trim()).every((x) => x in TRUST_PROXY_RANGES || isCidr(x))

/** The format's name is what a bad value's error line says, so it states the rule. */
export const TRUST_PROXY_FORMAT = 'a hop count or a comma list of proxy IPs/CIDRs (true is refused: it trusts any X-Forwarded-For)'
FormatRegistry.Set(TRUST_PROXY_FORMAT, isTrustProxy)

export function decodeTrustProxy(value: string): TrustProxy {
  return /^\d+$/.test(value) ? Number(value) : value.split(',').map((x) => x.trim()).filter(Boolean)
}

export function encodeTrustProxy(value: TrustProxy): string {
  return typeof value === 'number' ? String(value) : value.join(',')
}
