import t from 'tap'
import { keys, numberFields } from '@sms-verify/shared'
import { startFakeTencent } from '@sms-verify/testing'
import { sendCode, startTestRedis } from './helpers/app.js'
import { sendUntilCarrierRefuses } from './helpers/carrier-refusal.js'

// End to end: the API, a real sender process with the real Tencent SDK, the fake Tencent endpoint.

/** Seconds from `now` to the next midnight in Asia/Shanghai (UTC+8 all year). */
const toShanghaiMidnight = (now: number) => {
  const day = 86_400_000
  const offset = 8 * 3_600_000
  return (Math.floor((now + offset) / day) * day + day - offset - now) / 1000
}

t.test('a carrier daily limit: the sender dead-letters carrier_limit and records the block; the API answers 429 carrier_limit until Shanghai midnight', async (t) => {
  const fake = await startFakeTencent()
  const { app, redis, p, mobile, number, requestId, letter: fields } = await sendUntilCarrierRefuses(t, await startTestRedis(t), 'tencent', fake,
    { code: 'LimitExceeded.PhoneNumberDailyLimit', message: '单个手机号日下发短信条数超过设定的上限' })
  t.match(fields, { requestId, reason: 'carrier_limit', mobile: number })
  t.match(fields.lastError, /LimitExceeded\.PhoneNumberDailyLimit/)
  const blockMs = Number(await redis.hget(keys(p).number(number), numberFields.carrierUntil)) - Date.now()
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
