import t, { type Test } from 'tap'
import fc from 'fast-check'
import { isIP } from 'node:net'
import { ConfigError, configSchema, loadConfig } from '@sms-verify/shared'
import { clientAddress, trustOf } from '../src/client-address.js'
import { clientKey } from '../src/client-key.js'

/** fast-check with its seed in the failure, so a red run can be replayed. */
function holds<Ts>(t: Test, name: string, property: fc.IProperty<Ts>) {
  const out = fc.check(property, { numRuns: 300 })
  t.notOk(out.failed, out.failed ? `${name}: counterexample ${fc.stringify(out.counterexample)}, seed ${out.seed}, path ${out.counterexample ? out.counterexamplePath : ''}` : name)
}

const group = fc.integer({ min: 0, max: 0xffff })
const groups8 = fc.array(group, { minLength: 8, maxLength: 8 })
/** the same IPv6 address spelled three ways: full, zero-padded, and with the longest zero run as `::` */
const spell = (g: number[], how: 'full' | 'padded' | 'compressed'): string => {
  const hex = g.map((x) => how === 'padded' ? x.toString(16).padStart(4, '0') : x.toString(16))
  if (how !== 'compressed') return hex.join(':')
  let best = [-1, 0], run = [-1, 0]
  g.forEach((x, i) => {
    if (x !== 0) { run = [-1, 0]; return }
    run = run[0] === -1 ? [i, 1] : [run[0]!, run[1]! + 1]
    if (run[1]! > best[1]!) best = [...run]
  })
  if (best[1]! < 2) return hex.join(':')
  return `${hex.slice(0, best[0]).join(':')}::${hex.slice(best[0]! + best[1]!).join(':')}`
}
const ipv4 = fc.ipV4()

t.test('IPv4 is its own key; IPv4-mapped IPv6 is the IPv4 it maps', async (t) => {
  holds(t, 'ipv4', fc.property(ipv4, (a) => clientKey(a) === a))
  holds(t, 'mapped', fc.property(ipv4, (a) => {
    const [w, x, y, z] = a.split('.').map(Number) as [number, number, number, number]
    const hex = `::ffff:${((w << 8) | x).toString(16)}:${((y << 8) | z).toString(16)}`
    return clientKey(`::ffff:${a}`) === a && clientKey(hex) === a && clientKey(`0:0:0:0:0:ffff:${a}`) === a
  }))
})

t.test('IPv6 is keyed by its /64, however it is spelled', async (t) => {
  const notMapped = groups8.filter((g) => !(g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff))
  holds(t, 'one /64, one key', fc.property(notMapped, fc.array(group, { minLength: 4, maxLength: 4 }), fc.constantFrom('full', 'padded', 'compressed') as fc.Arbitrary<'full' | 'padded' | 'compressed'>,
    (g, low, how) => {
      const a = spell(g, how)
      const b = spell([...g.slice(0, 4), ...low], 'compressed')
      return isIP(a) === 6 && clientKey(a) === clientKey(b) && clientKey(a)!.endsWith('::/64') && clientKey(`${a}%eth0`) === clientKey(a)
    }))
  holds(t, 'another /64, another key', fc.property(notMapped, notMapped, (g, h) =>
    g.slice(0, 4).join() === h.slice(0, 4).join() || clientKey(spell(g, 'compressed')) !== clientKey(spell(h, 'compressed'))))
  t.equal(clientKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64')
  t.equal(clientKey('::1'), '0:0:0:0::/64')
})

t.test('anything that is not an IP address has no key', async (t) => {
  holds(t, 'no key for non-IPs', fc.property(fc.string({ unit: 'binary', maxLength: 64 }).filter((s) => isIP(s) === 0), (s) => clientKey(s) === undefined))
  for (const s of ['not-an-ip {0}', 'x'.repeat(8192), '1.2.3.4:80', '[::1]', '', 'unknown', '::ffff:1.2.3.4.5']) t.equal(clientKey(s), undefined, s.slice(0, 20))
  t.equal(clientKey(undefined), undefined)
})

t.test('the client address is never a string a client wrote, and spoofing left of the proxy changes nothing', async (t) => {
  const junk = fc.oneof(fc.string({ maxLength: 40 }), fc.constant('not-an-ip {0}'), fc.ipV4(), fc.ipV6())
  holds(t, 'always an IP from the chain', fc.property(fc.array(junk, { maxLength: 6 }), fc.integer({ min: 0, max: 8 }), ipv4, (xff, hops, socket) => {
    const a = clientAddress(socket, xff.join(', '), trustOf(hops))
    return a !== undefined && isIP(a) !== 0 && (a === socket || xff.map((x) => x.trim()).includes(a))
  }))
  const proxy = '10.0.0.7'
  // The real client is outside the proxies' range: an address inside it is, by the setting, one more proxy.
  const outsideProxies = ipv4.filter((a) => !a.startsWith('10.'))
  holds(t, 'the proxy-appended address wins', fc.property(fc.array(junk, { maxLength: 6 }), outsideProxies, fc.constantFrom<string[] | number>(['10.0.0.0/8'], 1), (spoofed, real, setting) =>
    clientAddress(proxy, [...spoofed, real].join(','), trustOf(setting)) === real))
  t.equal(clientAddress(proxy, 'not-an-ip {0}', trustOf(1)), proxy, 'a non-IP entry ends the walk at the last trusted hop')
  t.equal(clientAddress(proxy, '203.0.113.9, junk, 198.51.100.4', trustOf(3)), '198.51.100.4')
  t.equal(clientAddress('198.51.100.4', '203.0.113.9', trustOf(['10.0.0.0/8'])), '198.51.100.4', 'an untrusted peer is the client')
  t.equal(clientAddress('::ffff:10.0.0.7', '203.0.113.9', trustOf(['10.0.0.0/8'])), '203.0.113.9', 'a mapped peer matches its IPv4 range')
  t.equal(clientAddress('127.0.0.1', '203.0.113.9', trustOf(['loopback'])), '203.0.113.9', 'named ranges')
  t.equal(clientAddress(undefined, '203.0.113.9', trustOf(1)), undefined, 'no socket address: unknown')
})

t.test('TRUST_PROXY: hops or CIDRs; true is refused with one line', async (t) => {
  t.equal(loadConfig(configSchema, { TRUST_PROXY: '2' }).TRUST_PROXY, 2)
  t.same(loadConfig(configSchema, { TRUST_PROXY: '10.0.0.0/8, 2001:db8::/32,loopback,192.0.2.1' }).TRUST_PROXY, ['10.0.0.0/8', '2001:db8::/32', 'loopback', '192.0.2.1'])
  t.equal(loadConfig(configSchema, {}).TRUST_PROXY, undefined)
  for (const bad of ['true', 'TRUE', '10.0.0.0/33', 'proxy.example', '10.0.0.0/8,junk', '1.2.3.4/8/8']) {
    const err = t.throws(() => loadConfig(configSchema, { TRUST_PROXY: bad })) as Error
    t.type(err, ConfigError)
    t.notMatch(err.message, /\n/)
    t.match(err.message, /^invalid configuration: TRUST_PROXY .*hop count or a comma list of proxy IPs\/CIDRs/i, bad)
  }
})
