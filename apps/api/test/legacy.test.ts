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
