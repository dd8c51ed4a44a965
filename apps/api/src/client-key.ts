import { isIPv4, isIPv6 } from 'node:net'

/**
 * The one name every per-IP key and limit uses for a client (CONTRACT "Client address"):
 * IPv4 as is, IPv4-mapped IPv6 as the IPv4 it maps, any other IPv6 by its /64, since one
 * subscriber line or host usually holds a whole /64. Anything that is not an IP address has
 * no key (undefined): it must never reach a Redis key name.
 */
export function clientKey(address: string | undefined): string | undefined {
  if (address === undefined) return undefined
  if (isIPv4(address)) return address
  if (!isIPv6(address)) return undefined
  const groups = ipv6Groups(address)
  if (isIPv4Mapped(groups)) return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`
}

/** `::ffff:a.b.c.d` (or its hex spelling): 80 zero bits, then 16 one bits. */
const isIPv4Mapped = (groups: readonly number[]) => groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff

/** The eight 16-bit groups of a valid IPv6 address (zone dropped, `::` expanded, a dotted IPv4 tail as two groups). */
function ipv6Groups(address: string): number[] {
  const zoneless = address.split('%')[0]!
  const [head = '', tail] = zoneless.split('::') as [string, string | undefined]
  const parse = (part: string): number[] => part === '' ? [] : part.split(':').flatMap((g) => {
    if (!g.includes('.')) return [parseInt(g, 16)]
    const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number]
    return [(a << 8) | b, (c << 8) | d]
  })
  const left = parse(head)
  if (tail === undefined) return left
  const right = parse(tail)
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
}
