import t from 'tap'
import { keys, numberFields, partition, unseal, type E164 } from '@sms-verify/shared'
import { randomBytes } from 'node:crypto'
import { PassThrough } from 'node:stream'
import { e164, freshMobile, getStatus, makeApp, sendCode, startTestRedis, streamEntries } from './helpers/app.js'

const server = await startTestRedis(t)
const redis = server.client()
const { app } = await makeApp(t, server)

t.test('202 body and the job in the stream', async (t) => {
  const mobile = freshMobile()
  const before = Date.now()
  const res = await sendCode(app, { mobile, purpose: 'register' })
  t.equal(res.statusCode, 202)
  const body = res.json()
  t.match(body, { requestId: /^0-[A-Za-z0-9_-]{16}$/, expiresIn: 300, resendIn: 60 })
  t.same(Object.keys(body).sort(), ['expiresIn', 'requestId', 'resendIn'])
  const job = (await streamEntries(server)).find((e) => e.requestId === body.requestId)
  t.ok(job, 'the job is in sms:jobs')
  t.equal(job!.mobile, e164(mobile))
  t.equal(job!.purpose, 'register')
  t.equal(job!.kind, 'code')
  t.equal(job!.v, '1')
  t.match(job!.code, /^\d{6}$/)
  t.ok(Number(job!.createdAt) >= before && Number(job!.createdAt) <= Date.now())
  t.equal(Number(job!.expiresAt) - Number(job!.createdAt), 300_000)
  const status = await getStatus(app, body.requestId)
  t.equal(status.body.status, 'queued')
})

t.test('50 parallel requests for one number queue exactly one job', async (t) => {
  const mobile = freshMobile()
  const before = (await streamEntries(server)).length
  const replies = await Promise.all(Array.from({ length: 50 }, () => sendCode(app, { mobile, purpose: 'login' })))
  t.equal(replies.filter((r) => r.statusCode === 202).length, 1)
  t.equal(replies.filter((r) => r.statusCode === 429 && r.json().error === 'too_frequent').length, 49)
  const jobs = (await streamEntries(server)).slice(before)
  t.equal(jobs.filter((j) => j.mobile === e164(mobile)).length, 1)
})

t.test('resend inside the interval is 429 too_frequent with Retry-After; purposes are independent', async (t) => {
  const mobile = freshMobile()
  t.equal((await sendCode(app, { mobile, purpose: 'register' })).statusCode, 202)
  const again = await sendCode(app, { mobile, purpose: 'register' })
  t.equal(again.statusCode, 429)
  t.equal(again.json().error, 'too_frequent')
  t.type(again.json().message, 'string')
  t.ok(again.json().retryAfter > 55 && again.json().retryAfter <= 60)
  t.equal(again.headers['retry-after'], String(again.json().retryAfter))
  t.equal((await sendCode(app, { mobile, purpose: 'login' })).statusCode, 202, 'another purpose is not blocked')
  t.equal((await sendCode(app, { mobile, purpose: 'reset_password' })).statusCode, 202)
})

t.test('accepts the forms a person types', async (t) => {
  for (const mobile of ['+8613700000001', '+86 137-0000-0002', '13700000003']) {
    const res = await sendCode(app, { mobile, purpose: 'register' })
    t.equal(res.statusCode, 202, mobile)
  }
})

t.test('resend after the interval supersedes the old code', async (t) => {
  const server2 = await startTestRedis(t)
  const { app } = await makeApp(t, server2, { RESEND_INTERVAL_SECONDS: '0' })
  const mobile = freshMobile()
  const first = (await sendCode(app, { mobile, purpose: 'register' })).json()
  t.equal(first.resendIn, 0)
  const second = await sendCode(app, { mobile, purpose: 'register' })
  t.equal(second.statusCode, 202)
  t.equal((await getStatus(app, first.requestId)).body.status, 'superseded')
  t.equal((await getStatus(app, second.json().requestId)).body.status, 'queued')
})

t.test('daily limit per number', async (t) => {
  const server2 = await startTestRedis(t)
  const { app } = await makeApp(t, server2, { RESEND_INTERVAL_SECONDS: '0', SMS_DAILY_LIMIT_PER_MOBILE: '3' })
  const mobile = freshMobile()
  const purposes = ['register', 'login', 'reset_password', 'register']
  const codes = []
  for (const purpose of purposes) codes.push(await sendCode(app, { mobile, purpose }))
  t.same(codes.map((r) => r.statusCode), [202, 202, 202, 429])
  t.equal(codes[3]!.json().error, 'daily_limit')
  t.ok(codes[3]!.json().retryAfter > 86_000)
  t.equal(codes[3]!.headers['retry-after'], String(codes[3]!.json().retryAfter))
  t.equal((await sendCode(app, { mobile: freshMobile(), purpose: 'register' })).statusCode, 202, 'other numbers unaffected')
})

t.test('per-IP send limit counts only accepted sends', async (t) => {
  const server2 = await startTestRedis(t)
  const { app } = await makeApp(t, server2, { SEND_LIMIT_PER_IP_PER_HOUR: '20' })
  const ip = '203.0.113.7'
  const mobile = freshMobile()
  t.equal((await sendCode(app, { mobile, purpose: 'register' }, {}, ip)).statusCode, 202)
  // refused requests (cooldown, bad input) do not use up the IP's allowance
  for (let i = 0; i < 5; i++) t.equal((await sendCode(app, { mobile, purpose: 'register' }, {}, ip)).statusCode, 429)
  t.equal((await sendCode(app, { mobile: 'nope', purpose: 'register' }, {}, ip)).statusCode, 400)
  for (let i = 0; i < 19; i++) t.equal((await sendCode(app, { mobile: freshMobile(), purpose: 'register' }, {}, ip)).statusCode, 202)
  const refused = await sendCode(app, { mobile: freshMobile(), purpose: 'register' }, {}, ip)
  t.equal(refused.statusCode, 429)
  t.equal(refused.json().error, 'rate_limited')
  t.ok(refused.json().retryAfter > 3500)
  t.ok(refused.headers['retry-after'])
  t.equal((await sendCode(app, { mobile: freshMobile(), purpose: 'register' }, {}, '203.0.113.8')).statusCode, 202, 'another IP still sends')
})

t.test('region refusal', async (t) => {
  const res = await sendCode(app, { mobile: '+447400123456', purpose: 'register' })
  t.equal(res.statusCode, 400)
  t.equal(res.json().error, 'region_not_allowed')
  const server2 = await startTestRedis(t)
  const { app: uk } = await makeApp(t, server2, { ALLOWED_REGIONS: 'CN,GB' })
  t.equal((await sendCode(uk, { mobile: '+447400123456', purpose: 'register' })).statusCode, 202)
})

t.test('global budget answers 503 budget_exhausted', async (t) => {
  const server2 = await startTestRedis(t)
  const logStream = new PassThrough()
  let logged = ''
  logStream.on('data', (chunk: Buffer) => { logged += chunk.toString('utf8') })
  const { app } = await makeApp(t, server2, { SMS_BUDGET_PER_MINUTE: '3' }, { logStream })
  const replies = []
  for (let i = 0; i < 5; i++) replies.push(await sendCode(app, { mobile: freshMobile(), purpose: 'register' }))
  t.same(replies.map((r) => r.statusCode), [202, 202, 202, 503, 503])
  t.equal(replies[3]!.json().error, 'budget_exhausted')
  t.ok(replies[3]!.json().retryAfter >= 1 && replies[3]!.json().retryAfter <= 60)
  t.equal(await server2.client().xlen('sms:jobs'), 3)
  const warnings = logged.split('\n').filter((l) => l.includes('SMS budget exhausted'))
  t.equal(warnings.length, 1, 'one warning for the minute, however many sends it refuses')
  t.equal((JSON.parse(warnings[0]!) as { level: number }).level, 40, 'logged as a warning')
})

t.test('idempotency: replay, parallel repeats, mismatch, bad keys', async (t) => {
  const mobile = freshMobile()
  const headers = { 'idempotency-key': `signup-${mobile}` }
  const first = await sendCode(app, { mobile, purpose: 'register' }, headers)
  t.equal(first.statusCode, 202)
  const again = await sendCode(app, { mobile: e164(mobile), purpose: 'register' }, headers)
  t.equal(again.statusCode, 202, 'same E.164 and purpose in another spelling is the same request')
  t.same(again.json(), first.json())

  const mobile2 = freshMobile()
  const h2 = { 'idempotency-key': `k2-${mobile2}` }
  const replies = await Promise.all(Array.from({ length: 10 }, () => sendCode(app, { mobile: mobile2, purpose: 'login' }, h2)))
  t.same(new Set(replies.map((r) => r.statusCode)), new Set([202]))
  t.equal(new Set(replies.map((r) => r.json().requestId)).size, 1)
  t.equal((await streamEntries(server)).filter((j) => j.mobile === e164(mobile2)).length, 1)

  const mismatch = await sendCode(app, { mobile, purpose: 'login' }, headers)
  t.equal(mismatch.statusCode, 422)
  t.equal(mismatch.json().error, 'idempotency_mismatch')

  // a refusal sent nothing and is not stored: the repeat is decided again, and goes through once the cooldown ends
  const refusedKey = { 'idempotency-key': `k3-${mobile}` }
  const refused = await sendCode(app, { mobile, purpose: 'register' }, refusedKey)
  t.equal(refused.statusCode, 429)
  t.equal(refused.json().error, 'too_frequent')
  await server.client().hdel(keys(partition(0, 1, false)).number(e164(mobile) as E164), numberFields.resendAt('register'))
  const retried = await sendCode(app, { mobile, purpose: 'register' }, refusedKey)
  t.equal(retried.statusCode, 202, 'the same key is accepted once the refusal no longer holds')
  t.not(retried.json().requestId, first.json().requestId)

  for (const key of ['', 'x'.repeat(256), 'tab\there', 'ü']) {
    const res = await sendCode(app, { mobile: freshMobile(), purpose: 'register' }, { 'idempotency-key': key })
    t.equal(res.statusCode, 400, JSON.stringify(key))
    t.equal(res.json().error, 'invalid_idempotency_key')
  }
})

t.test('test numbers: fixed code, no job, no cooldown, status sent by provider test', async (t) => {
  const server2 = await startTestRedis(t)
  const { app } = await makeApp(t, server2, { TEST_NUMBERS: '+8613800000000=123456' })
  const a = await sendCode(app, { mobile: '13800000000', purpose: 'login' })
  const b = await sendCode(app, { mobile: '13800000000', purpose: 'login' })
  t.equal(a.statusCode, 202)
  t.equal(b.statusCode, 202, 'no cooldown')
  t.equal(a.json().resendIn, 0)
  t.equal(await server2.client().xlen('sms:jobs'), 0, 'nothing queued')
  const status = await getStatus(app, b.json().requestId)
  t.equal(status.body.status, 'sent')
  t.equal(status.body.provider, 'test')
  const ok = await app.inject({ method: 'POST', url: '/v1/sms-codes/verify', payload: { mobile: '13800000000', purpose: 'login', code: '123456' } })
  t.equal(ok.statusCode, 200)
})

t.test('a carrier block answers 429 carrier_limit until it ends', async (t) => {
  const mobile = freshMobile()
  await redis.hset(keys(partition(0, 1, false)).number(e164(mobile) as E164), numberFields.carrierUntil, Date.now() + 1_800_000)
  const res = await sendCode(app, { mobile, purpose: 'register' })
  t.equal(res.statusCode, 429)
  t.equal(res.json().error, 'carrier_limit')
  t.ok(res.json().retryAfter > 1795 && res.json().retryAfter <= 1800)
  t.equal(res.headers['retry-after'], String(res.json().retryAfter))
})

t.test('sealed jobs: no code in the stream, the key opens it', async (t) => {
  const server2 = await startTestRedis(t)
  const key = randomBytes(32)
  const { app } = await makeApp(t, server2, { TEST_NUMBERS: '' }, { sealKey: key })
  const mobile = freshMobile()
  const res = await sendCode(app, { mobile, purpose: 'register' })
  t.equal(res.statusCode, 202)
  const [job] = await streamEntries(server2)
  t.notOk('code' in job!, 'no code field')
  t.ok(job!.sealed)
  const code = unseal(key, job!.sealed!, job!.requestId!)
  t.match(code, /^\d{6}$/)
  const raw = JSON.stringify(await server2.client().xrange('sms:jobs', '-', '+'))
  t.notOk(raw.includes(code), 'the code is nowhere in the raw stream')
  const verified = await app.inject({ method: 'POST', url: '/v1/sms-codes/verify', payload: { mobile, purpose: 'register', code } })
  t.equal(verified.statusCode, 200, 'the unsealed code verifies')
})

t.test('metrics count issued and refused codes', async (t) => {
  t.equal((await sendCode(app, { mobile: '12345', purpose: 'register' })).json().error, 'invalid_mobile')
  t.equal((await sendCode(app, { mobile: '+12025550123', purpose: 'register' })).json().error, 'region_not_allowed')
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(text, /sms_codes_refused_total\{reason="invalid_mobile"\} [1-9]/)
  t.match(text, /sms_codes_refused_total\{reason="region_not_allowed"\} [1-9]/)
  t.match(text, /sms_codes_issued_total\{purpose="register"\} \d+/)
  t.match(text, /sms_codes_refused_total\{reason="too_frequent"\} \d+/)
  t.match(text, /sms_api_requests_total\{method="POST",route="\/v1\/sms-codes",status="202"\} \d+/)
})
