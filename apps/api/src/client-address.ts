import { BlockList, isIP } from 'node:net'
import { isCidr, TRUST_PROXY_RANGES, type TrustProxy } from '@sms-verify/shared'

/** Is the peer `address`, `hop` steps from the API (0: the socket's peer), a proxy whose X-Forwarded-For we believe? */
export type Trust = (address: string, hop: number) => boolean

const TRUST_NOTHING: Trust = () => false

/** TRUST_PROXY → the trust rule: the first n hops, or peers inside the listed ranges. */
export function trustOf(setting: TrustProxy | undefined): Trust {
  if (setting === undefined || setting === 0) return TRUST_NOTHING
  if (typeof setting === 'number') return (_address, hop) => hop < setting
  const proxies = new BlockList()
  for (const entry of setting.flatMap((e) => TRUST_PROXY_RANGES[e] ?? [e])) {
    if (!isCidr(entry)) throw new Error(`not an IP or CIDR: ${entry}`) // config.ts already refused it
    const [address, prefix] = entry.split('/') as [string, string | undefined]
    const family = isIP(address) === 4 ? 'ipv4' : 'ipv6'
    proxies.addSubnet(address, prefix === undefined ? (family === 'ipv4' ? 32 : 128) : Number(prefix), family)
  }
  return (address) => proxies.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6')
}

/**
 * The client's address: walk X-Forwarded-For from the right (the entry the nearest proxy
 * appended) while the peer at hand is a trusted proxy. An entry that is not an IP address
 * ends the walk: the last trusted hop is the client, never a string a client wrote. Undefined
 * when the socket's own address is unknown (the connection closed before it was read).
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | undefined, trust: Trust): string | undefined {
  if (socketAddress === undefined || isIP(socketAddress) === 0) return undefined
  let client = socketAddress
  if (forwardedFor === undefined || trust === TRUST_NOTHING) return client
  const entries = forwardedFor.split(',')
  for (let hop = 0; hop < entries.length && trust(client, hop); hop++) {
    const next = entries[entries.length - 1 - hop]!.trim()
    if (isIP(next) === 0) break
    client = next
  }
  return client
}
