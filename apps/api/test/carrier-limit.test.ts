import t from 'tap'
import { decodeDeadLetter, keys, partition, type E164 } from '@sms-verify/shared'
import { fakeProviderEnv, startFakeTencent, startSenderProcess, waitFor, type RunningProcess } from '@sms-verify/testing'
import { e164, freshMobile, getStatus, makeApp, sendCode, startTestRedis } from './helpers/app.js'

// End to end: the API, a real sender process with the real Tencent SDK, the fake Tencent endpoint.

/** Seconds from `now` to the next midnight in Asia/Shanghai (UTC+8 all year). */
const toShanghaiMidnight = (now: number) => {
  const day = 86_400_000
  const offset = 8 * 3_600_000
  return (Math.floor((now + offset) / day) * day + day - offset - now) / 1000
}

t.test('a carrier daily limit: the sender dead-letters carrier_limit and records the block; the API answers 429 carrier_limit until Shanghai midnight', async (t) => {
  const server = await startTestRedis(t)
  const fake = await startFakeTencent()
  let sender: RunningProcess | undefined
  t.teardown(async () => { await sender?.kill('SIGKILL'); await fake.stop() })
  const mobile = freshMobile()
  const number = e164(mobile) as E164
  fake.behaviour.set(number, { code: 'LimitExceeded.PhoneNumberDailyLimit', message: '单个手机号日下发短信条数超过设定的上限' })
  sender = await startSenderProcess({ REDIS_URL: server.url, SMS_PROVIDER: 'tencent', ...fakeProviderEnv({ tencent: fake.endpoint }) })
  const { app } = await makeApp(t, server)
  const redis = server.client()
  const p = partition(0, 1, false)

  const first = await sendCode(app, { mobile, purpose: 'login' })
  t.equal(first.statusCode, 202)
  const { requestId } = first.json() as { requestId: string }
  await waitFor(async () => (await getStatus(app, requestId)).body.status === 'failed', { timeout: 15_000, what: 'the request to read failed' })
  const [dead] = await redis.xrange(p.deadStream, '-', '+')
  t.ok(dead, 'a dead letter')
  const decoded = decodeDeadLetter(dead![1])
  if (!decoded.ok) throw new Error(decoded.reason)
  const fields = decoded.letter
  t.match(fields, { requestId, reason: 'carrier_limit', mobile: number })
  t.match(fields.lastError, /LimitExceeded\.PhoneNumberDailyLimit/)
  const blockMs = await redis.pttl(keys(p).carrierBlock(number))
  t.ok(blockMs > 0, 'the block is recorded')
  t.ok(Math.abs(blockMs / 1000 - toShanghaiMidnight(Date.now())) <= 2, `the block ends at Shanghai midnight (${blockMs} ms)`)
  t.equal(fake.accepted.length, 0)

  // Another purpose (no cooldown) and the same purpose: both refused by the carrier block, nothing queued.
  for (const purpose of ['register', 'login']) {
    const before = await redis.xlen(p.stream)
    const again = await sendCode(app, { mobile, purpose })
    const expected = toShanghaiMidnight(Date.now())
    t.equal(again.statusCode, 429, `${purpose}: 429`)
    const body = again.json() as { error: string, retryAfter: number }
    t.equal(body.error, 'carrier_limit')
    t.ok(Math.abs(body.retryAfter - expected) <= 2, `${purpose}: retryAfter ${body.retryAfter} s is the time to Shanghai midnight (${expected} s)`)
    t.equal(again.headers['retry-after'], String(body.retryAfter))
    t.equal(await redis.xlen(p.stream), before, 'nothing queued')
  }
  t.equal(fake.requests.filter((r) => r.action === 'SendSms').length, 1, 'the carrier was asked once')
})
