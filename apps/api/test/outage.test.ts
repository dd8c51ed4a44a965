import t from 'tap'
import { Writable } from 'node:stream'
import { waitFor } from '@sms-verify/testing'
import { freshMobile, makeApp, sendCode, startTestRedis, verifyCode } from './helpers/app.js'

t.test('Redis killed mid-run: 503 unavailable at once, never after a command timeout, then recovery', async (t) => {
  const server = await startTestRedis(t)
  const logs: Array<{ msg: string, reason?: string }> = []
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line))
      done()
    },
  })
  const { app } = await makeApp(t, server, {}, { logStream })
  t.equal((await sendCode(app, { mobile: freshMobile(), purpose: 'register' })).statusCode, 202)
  await server.kill()

  for (const call of [
    () => sendCode(app, { mobile: freshMobile(), purpose: 'register' }),
    () => verifyCode(app, { mobile: freshMobile(), purpose: 'register', code: '123456' }),
    () => app.inject({ method: 'GET', url: '/v1/sms-codes/requests/0-AAAAAAAAAAAAAAAA' }),
    () => app.inject({ method: 'GET', url: `/sms_codes/${freshMobile()}/` }),
    () => app.inject({ method: 'GET', url: '/readyz' }),
  ]) {
    const res = await call()
    t.equal(res.statusCode, 503)
    t.equal(res.json().error, 'unavailable')
    t.type(res.json().message, 'string')
  }
  // The fail-fast client has no offline queue: a command is refused while the connection is down, not
  // held until its 800 ms command timeout (the reason would then read "Command timed out").
  const reasons = logs.filter((l) => l.msg === 'answered 503').map((l) => l.reason)
  t.ok(reasons.length > 0, `the 503s were logged with their reasons: ${JSON.stringify(reasons)}`)
  t.same(reasons.filter((r) => /timed out/i.test(r ?? '')), [], 'none waited for a command timeout')
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'liveness does not depend on Redis')

  await server.start()
  const res = await waitFor(async () => {
    const r = await sendCode(app, { mobile: freshMobile(), purpose: 'register' })
    return r.statusCode === 202 ? r : undefined
  }, { timeout: 5000, what: 'a 202 after Redis came back' })
  t.equal(res.statusCode, 202)
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
})
