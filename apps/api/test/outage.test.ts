import t from 'tap'
import { waitFor } from '@sms-verify/testing'
import { freshMobile, makeApp, sendCode, startTestRedis, verifyCode } from './helpers/app.js'

t.test('Redis killed mid-run: 503 unavailable in under a second, then recovery', async (t) => {
  const server = await startTestRedis(t)
  const { app } = await makeApp(t, server)
  t.equal((await sendCode(app, { mobile: freshMobile(), purpose: 'register' })).statusCode, 202)
  await server.kill()

  for (const call of [
    () => sendCode(app, { mobile: freshMobile(), purpose: 'register' }),
    () => verifyCode(app, { mobile: freshMobile(), purpose: 'register', code: '123456' }),
    () => app.inject({ method: 'GET', url: '/v1/sms-codes/requests/0-AAAAAAAAAAAAAAAA' }),
    () => app.inject({ method: 'GET', url: `/sms_codes/${freshMobile()}/` }),
    () => app.inject({ method: 'GET', url: '/readyz' }),
  ]) {
    const started = Date.now()
    const res = await call()
    const took = Date.now() - started
    t.equal(res.statusCode, 503)
    t.equal(res.json().error, 'unavailable')
    t.type(res.json().message, 'string')
    t.ok(took < 1000, `answered in ${took} ms`)
  }
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'liveness does not depend on Redis')

  await server.start()
  const res = await waitFor(async () => {
    const r = await sendCode(app, { mobile: freshMobile(), purpose: 'register' })
    return r.statusCode === 202 ? r : undefined
  }, { timeout: 5000, what: 'a 202 after Redis came back' })
  t.equal(res.statusCode, 202)
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
})
