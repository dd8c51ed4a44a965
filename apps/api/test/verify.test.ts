import t from 'tap'
import { keys, numberFields, partition, type E164 } from '@sms-verify/shared'
import { waitFor } from '@sms-verify/testing'
import { codeOf, e164, freshMobile, getStatus, makeApp, sendCode, startTestRedis, verifyCode, wrongCode } from './helpers/app.js'

const server = await startTestRedis(t)
const redis = server.client()
const { app } = await makeApp(t, server, { RESEND_INTERVAL_SECONDS: '0' })

async function issue(mobile: string, purpose = 'register') {
  const res = await sendCode(app, { mobile, purpose })
  if (res.statusCode !== 202) throw new Error(`send failed: ${res.body}`)
  const { requestId } = res.json() as { requestId: string }
  return { requestId, code: await codeOf(server, requestId) }
}

t.test('the right code verifies once, then 404 no_code; record reads verified', async (t) => {
  const mobile = freshMobile()
  const { requestId, code } = await issue(mobile)
  const ok = await verifyCode(app, { mobile, purpose: 'register', code })
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { verified: true })
  const again = await verifyCode(app, { mobile, purpose: 'register', code })
  t.equal(again.statusCode, 404)
  t.equal(again.json().error, 'no_code')
  const status = await getStatus(app, requestId)
  t.equal(status.body.status, 'verified')
  t.type(status.body.timestamps.verified, 'number')
  t.type(status.body.timestamps.queued, 'number')
})

t.test('wrong codes count down attemptsLeft, then burn the code', async (t) => {
  const mobile = freshMobile()
  const { requestId, code } = await issue(mobile)
  const bad = wrongCode(code)
  const left = []
  for (let i = 0; i < 4; i++) {
    const res = await verifyCode(app, { mobile, purpose: 'register', code: bad })
    t.equal(res.statusCode, 400)
    t.equal(res.json().error, 'wrong_code')
    left.push(res.json().attemptsLeft)
  }
  t.same(left, [4, 3, 2, 1])
  const fifth = await verifyCode(app, { mobile, purpose: 'register', code: bad })
  t.equal(fifth.statusCode, 429)
  t.equal(fifth.json().error, 'too_many_attempts')
  t.ok(fifth.json().retryAfter > 0)
  t.ok(fifth.headers['retry-after'])
  const right = await verifyCode(app, { mobile, purpose: 'register', code })
  t.equal(right.statusCode, 429, 'a burnt code refuses even the right code')
  t.equal((await getStatus(app, requestId)).body.status, 'burnt')
})

t.test('20 parallel right verifies give exactly one 200', async (t) => {
  const mobile = freshMobile()
  const { code } = await issue(mobile)
  const replies = await Promise.all(Array.from({ length: 20 }, () => verifyCode(app, { mobile, purpose: 'register', code })))
  t.equal(replies.filter((r) => r.statusCode === 200).length, 1)
  t.equal(replies.filter((r) => r.statusCode === 404).length, 19)
})

t.test('purposes are independent', async (t) => {
  const mobile = freshMobile()
  const { code } = await issue(mobile, 'login')
  const other = await verifyCode(app, { mobile, purpose: 'register', code })
  t.equal(other.statusCode, 404, 'a login code does not verify register')
  t.equal((await verifyCode(app, { mobile, purpose: 'login', code })).statusCode, 200)
})

t.test('resend supersedes: the old code stops working, its record reads superseded', async (t) => {
  const mobile = freshMobile()
  const first = await issue(mobile)
  const second = await issue(mobile)
  t.not(first.requestId, second.requestId)
  if (first.code !== second.code) {
    t.equal((await verifyCode(app, { mobile, purpose: 'register', code: first.code })).statusCode, 400, 'the old code is just a wrong code now')
  }
  t.equal((await getStatus(app, first.requestId)).body.status, 'superseded')
  t.equal((await verifyCode(app, { mobile, purpose: 'register', code: second.code })).statusCode, 200)
})

t.test('a new code brings its own tries: the wrong tries of the one before start again', async (t) => {
  const mobile = freshMobile()
  const first = await issue(mobile)
  t.equal((await verifyCode(app, { mobile, purpose: 'register', code: wrongCode(first.code) })).json().attemptsLeft, 4)
  t.equal((await verifyCode(app, { mobile, purpose: 'register', code: wrongCode(first.code) })).json().attemptsLeft, 3)
  const second = await issue(mobile)
  t.equal((await verifyCode(app, { mobile, purpose: 'register', code: wrongCode(second.code) })).json().attemptsLeft, 4, 'the second code starts from none')
  t.equal((await verifyCode(app, { mobile, purpose: 'register', code: second.code })).statusCode, 200)
})

t.test('wrong tries are capped per number across resends', async (t) => {
  const server2 = await startTestRedis(t)
  const { app } = await makeApp(t, server2, { RESEND_INTERVAL_SECONDS: '0', VERIFY_MAX_FAILURES_PER_DAY: '3' })
  const mobile = freshMobile()
  const send = async () => codeOf(server2, (await sendCode(app, { mobile, purpose: 'register' })).json().requestId)
  const c1 = await send()
  t.equal((await verifyCode(app, { mobile, purpose: 'register', code: wrongCode(c1) })).json().attemptsLeft, 4)
  t.equal((await verifyCode(app, { mobile, purpose: 'register', code: wrongCode(c1) })).json().attemptsLeft, 3)
  const c2 = await send()
  const third = await verifyCode(app, { mobile, purpose: 'register', code: wrongCode(c2) })
  t.equal(third.statusCode, 429, 'the third wrong try of the day')
  t.equal(third.json().error, 'too_many_attempts')
  t.ok(third.json().retryAfter > 86_000)
  const right = await verifyCode(app, { mobile, purpose: 'register', code: c2 })
  t.equal(right.statusCode, 429, 'even the right code, until the window allows')
  const c3 = await send()
  t.equal((await verifyCode(app, { mobile, purpose: 'login', code: c3 })).statusCode, 429, 'for every purpose of that number')
})

t.test('a try that burns the code and reaches the daily cap answers the longer wait', async (t) => {
  const server2 = await startTestRedis(t)
  const { app } = await makeApp(t, server2, { VERIFY_MAX_ATTEMPTS: '2', VERIFY_MAX_FAILURES_PER_DAY: '2' })
  const mobile = freshMobile()
  const code = await codeOf(server2, (await sendCode(app, { mobile, purpose: 'register' })).json().requestId)
  t.equal((await verifyCode(app, { mobile, purpose: 'register', code: wrongCode(code) })).json().attemptsLeft, 1)
  const burning = await verifyCode(app, { mobile, purpose: 'register', code: wrongCode(code) })
  t.equal(burning.json().error, 'too_many_attempts')
  t.ok(burning.json().retryAfter > 86_000, `the day's cap, not the code's ${300} s (got ${burning.json().retryAfter})`)
})

t.test('expiry: the code stops working and the record reads expired', async (t) => {
  const server2 = await startTestRedis(t)
  const { app } = await makeApp(t, server2, { CODE_TTL_SECONDS: '1' })
  const mobile = freshMobile()
  const res = await sendCode(app, { mobile, purpose: 'register' })
  t.equal(res.json().expiresIn, 1)
  const { requestId } = res.json()
  const code = await codeOf(server2, requestId)
  const plain = server2.client()
  const expiresAt = Number(await plain.hget(keys(partition(0, 1, false)).number(e164(mobile) as E164), numberFields.code('register').expiresAt))
  await waitFor(async () => Date.now() > expiresAt, { timeout: 3000 })
  const late = await verifyCode(app, { mobile, purpose: 'register', code })
  t.equal(late.statusCode, 404)
  t.equal(late.json().error, 'no_code')
  const status = await getStatus(app, requestId)
  t.equal(status.body.status, 'expired')
  t.type(status.body.timestamps.expired, 'number')
})

t.test('HMAC at rest: no key and no value in Redis holds the code', async (t) => {
  const server2 = await startTestRedis(t)
  const { app } = await makeApp(t, server2, { TEST_NUMBERS: '+8613800000000=864209' })
  // a test number: its code is known and it never reaches the stream, so the stream cannot explain a hit
  t.equal((await sendCode(app, { mobile: '13800000000', purpose: 'register' })).statusCode, 202)
  t.equal((await verifyCode(app, { mobile: '13800000000', purpose: 'register', code: '000000' })).statusCode, 400)
  const plain = server2.client()
  const dump: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = await plain.scan(cursor, 'COUNT', 100)
    cursor = next
    for (const key of keys) {
      dump.push(key)
      const type = await plain.type(key)
      if (type === 'string') dump.push(String(await plain.get(key)))
      else if (type === 'hash') dump.push(JSON.stringify(await plain.hgetall(key)))
      else if (type === 'zset') dump.push(JSON.stringify(await plain.zrange(key, 0, '-1', 'WITHSCORES')))
      else if (type === 'stream') dump.push(JSON.stringify(await plain.xrange(key, '-', '+')))
      else dump.push(`unexpected ${type}`)
    }
  } while (cursor !== '0')
  t.ok(dump.length >= 6, 'there is something to look at')
  t.notOk(dump.some((s) => s.includes('unexpected')), 'only known types')
  t.notOk(dump.join('\n').includes('864209'), 'the code appears nowhere')
})

t.test('malformed verify bodies', async (t) => {
  for (const [body, error] of [
    [{ mobile: freshMobile(), purpose: 'register', code: '12ab56' }, 'invalid_code'],
    [{ mobile: freshMobile(), purpose: 'register', code: '123' }, 'invalid_code'],
    [{ mobile: freshMobile(), purpose: 'register', code: 123456 }, 'invalid_code'],
    [{ mobile: 'x', purpose: 'register', code: '123456' }, 'invalid_mobile'],
    [{ mobile: freshMobile(), purpose: 'admin', code: '123456' }, 'invalid_purpose'],
    [{ mobile: freshMobile(), purpose: 'register' }, 'invalid_body'],
  ] as const) {
    const res = await verifyCode(app, body)
    t.equal(res.statusCode, 400, JSON.stringify(body))
    t.equal(res.json().error, error)
  }
  t.equal((await verifyCode(app, { mobile: freshMobile(), purpose: 'register', code: '123456' })).json().error, 'no_code')
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, /sms_verify_total\{outcome="verified"\} \d+/)
  t.match(metrics, /sms_verify_total\{outcome="wrong_code"\} \d+/)
  void redis
})
