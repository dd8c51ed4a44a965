import t from 'tap'
import { freshMobile, makeApp, startTestRedis, streamEntries } from './helpers/app.js'

const server = await startTestRedis(t)
const { app } = await makeApp(t, server)

for (const slash of ['', '/']) {
  t.test(`GET /sms_codes/:mobile${slash}: ok, 频繁发送短信, 404`, async (t) => {
    const mobile = freshMobile()
    const first = await app.inject({ method: 'GET', url: `/sms_codes/${mobile}${slash}` })
    t.equal(first.statusCode, 200)
    t.same(first.json(), { message: 'ok' })
    const job = (await streamEntries(server)).find((e) => e.mobile === `+86${mobile}`)
    t.equal(job?.purpose, 'register', 'queued as a register code')
    const again = await app.inject({ method: 'GET', url: `/sms_codes/${mobile}${slash}` })
    t.equal(again.statusCode, 400)
    t.equal(again.json().message, '频繁发送短信')
    t.equal(again.json().error, 'too_frequent')
    t.ok(again.headers['retry-after'])
    for (const bad of ['12345678901', '1381234567', '+8613812345678', 'abc']) {
      const res = await app.inject({ method: 'GET', url: `/sms_codes/${encodeURIComponent(bad)}${slash}` })
      t.equal(res.statusCode, 404, bad)
      t.type(res.json().message, 'string')
      t.equal(res.json().error, 'invalid_mobile')
    }
  })
}

t.test('other refusals keep the v1 status and carry message', async (t) => {
  const server2 = await startTestRedis(t)
  const { app } = await makeApp(t, server2, { RESEND_INTERVAL_SECONDS: '0', SMS_DAILY_LIMIT_PER_MOBILE: '1' })
  const mobile = freshMobile()
  t.equal((await app.inject({ method: 'GET', url: `/sms_codes/${mobile}/` })).statusCode, 200)
  const res = await app.inject({ method: 'GET', url: `/sms_codes/${mobile}/` })
  t.equal(res.statusCode, 429)
  t.equal(res.json().error, 'daily_limit')
  t.type(res.json().message, 'string')
})

t.test('a cross-site browser request is refused 403 cross_site and sends nothing', async (t) => {
  const server2 = await startTestRedis(t)
  const { app } = await makeApp(t, server2, { RESEND_INTERVAL_SECONDS: '0', CORS_ORIGINS: 'https://app.example' })
  const get = (headers: Record<string, string>) => app.inject({ method: 'GET', url: `/sms_codes/${freshMobile()}/`, headers })
  const crossSite: Array<Record<string, string>> = [
    { 'sec-fetch-site': 'cross-site' }, // an image tag on another site: no Origin at all
    { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
    { 'sec-fetch-site': 'cross-site', origin: 'null' },
  ]
  for (const headers of crossSite) {
    const res = await get(headers)
    t.equal(res.statusCode, 403, JSON.stringify(headers))
    t.equal(res.json().error, 'cross_site')
    t.type(res.json().message, 'string')
  }
  t.equal((await streamEntries(server2)).length, 0, 'nothing queued')
  t.equal((await server2.client().keys('sms:ip:*')).length, 0, 'no limit touched')
  const allowed: Array<Record<string, string>> = [
    { 'sec-fetch-site': 'cross-site', origin: 'https://app.example' }, // our page on another site, allowed by CORS_ORIGINS
    { 'sec-fetch-site': 'same-site' },
    { 'sec-fetch-site': 'same-origin' },
    { 'sec-fetch-site': 'none' },
    {}, // curl, a server, an old browser
  ]
  for (const headers of allowed) t.equal((await get(headers)).statusCode, 200, JSON.stringify(headers))
  t.equal((await streamEntries(server2)).length, 5)
})
