import t from 'tap'
import { freshMobile, makeApp, sendCode, startTestRedis, streamEntries } from './helpers/app.js'

const server = await startTestRedis(t)
const redis = server.client()
const allKeys = async () => redis.keys('*')

const PROXY = '10.0.0.7'
const JUNK_8K = 'x'.repeat(8192)

t.test('behind a trusted proxy, spoofed leftmost entries do not multiply the send allowance', async (t) => {
  for (const trust of ['1', '10.0.0.0/8']) {
    await redis.flushall()
    const { app } = await makeApp(t, server, { TRUST_PROXY: trust, SEND_LIMIT_PER_IP_PER_HOUR: '20', RESEND_INTERVAL_SECONDS: '0' })
    const spoofs = (i: number) => [`198.51.100.${i}`, `2001:db8::${i}`, 'not-an-ip {0}', JUNK_8K, `203.0.113.${i}, 192.0.2.${i}`, 'unknown'][i % 6]!
    const statuses: number[] = []
    for (let i = 0; i < 30; i++) {
      // the proxy appends the address it saw: the real client, 192.0.2.50
      const res = await sendCode(app, { mobile: freshMobile(), purpose: 'register' }, { 'x-forwarded-for': `${spoofs(i)}, 192.0.2.50` }, PROXY)
      statuses.push(res.statusCode)
      if (res.statusCode !== 202) t.equal(res.json().error, 'rate_limited')
    }
    t.equal(statuses.filter((s) => s === 202).length, 20, `TRUST_PROXY=${trust}: SEND_LIMIT_PER_IP_PER_HOUR, no more`)
    const ipKeys = (await allKeys()).filter((k) => k.startsWith('sms:ip:'))
    t.same(ipKeys, ['sms:ip:192.0.2.50:sends'], 'counted under the address the proxy saw')
  }
})

t.test('a junk X-Forwarded-For entry never becomes part of a Redis key', async (t) => {
  await redis.flushall()
  const { app } = await makeApp(t, server, { TRUST_PROXY: '2', RESEND_INTERVAL_SECONDS: '0' })
  // two hops trusted: the rightmost entry is taken as a proxy's word, so a junk one must stop the walk
  for (const xff of ['not-an-ip {0}', JUNK_8K, `192.0.2.1, ${JUNK_8K}`, '192.0.2.1, not-an-ip {0}']) {
    const res = await sendCode(app, { mobile: freshMobile(), purpose: 'register' }, { 'x-forwarded-for': xff }, PROXY)
    t.equal(res.statusCode, 202, 'the proxy itself is the client')
    const verify = await app.inject({ method: 'POST', url: '/v1/sms-codes/verify', payload: { mobile: freshMobile(), purpose: 'login', code: '123456' }, headers: { 'x-forwarded-for': xff }, remoteAddress: PROXY })
    t.equal(verify.statusCode, 404)
  }
  const keys = await allKeys()
  t.ok(keys.length > 0)
  t.notOk(keys.some((k) => k.includes('not-an-ip') || k.includes('xxxxxxxx') || k.length > 200), keys.filter((k) => k.length > 200 || k.includes('not-an')).map((k) => k.slice(0, 60)).join(' '))
  t.same(keys.filter((k) => k.startsWith('sms:ip:')), [`sms:ip:${PROXY}:sends`])
})

t.test('two addresses in one IPv6 /64 share the send allowance and the request counter', async (t) => {
  await redis.flushall()
  const { app } = await makeApp(t, server, { SEND_LIMIT_PER_IP_PER_HOUR: '2', RESEND_INTERVAL_SECONDS: '0' })
  t.equal((await sendCode(app, { mobile: freshMobile(), purpose: 'register' }, {}, '2001:db8:1:2::1')).statusCode, 202)
  t.equal((await sendCode(app, { mobile: freshMobile(), purpose: 'register' }, {}, '2001:db8:1:2:ffff:ffff:ffff:9')).statusCode, 202)
  const third = await sendCode(app, { mobile: freshMobile(), purpose: 'register' }, {}, '2001:0db8:0001:0002:abcd::7')
  t.equal(third.statusCode, 429, 'a third address of the same /64 is over the limit')
  t.equal(third.json().error, 'rate_limited')
  t.equal((await sendCode(app, { mobile: freshMobile(), purpose: 'register' }, {}, '2001:db8:1:3::1')).statusCode, 202, 'the next /64 has its own')
  // IPv4 and its mapped IPv6 spelling are one client
  t.equal((await sendCode(app, { mobile: freshMobile(), purpose: 'register' }, {}, '192.0.2.8')).statusCode, 202)
  t.equal((await sendCode(app, { mobile: freshMobile(), purpose: 'register' }, {}, '::ffff:192.0.2.8')).statusCode, 202)
  t.equal((await sendCode(app, { mobile: freshMobile(), purpose: 'register' }, {}, '::ffff:c000:208')).json().error, 'rate_limited')
  // the general limit (the plugin on other routes, the send script on sends) counts under the same key
  await app.inject({ method: 'GET', url: '/v1/sms-codes/requests/0-AAAAAAAAAAAAAAAA', remoteAddress: '2001:db8:1:2::99' })
  t.equal(await redis.get('sms:ratelimit:2001:db8:1:2::/64'), '4', 'three sends and one status read, one counter')
  t.same((await allKeys()).filter((k) => k.startsWith('sms:ip:')).sort(), ['sms:ip:192.0.2.8:sends', 'sms:ip:2001:db8:1:2::/64:sends', 'sms:ip:2001:db8:1:3::/64:sends'])
  t.equal((await streamEntries(server)).length, 5)
})
