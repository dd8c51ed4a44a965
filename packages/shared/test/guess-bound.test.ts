import t from 'tap'
import fc from 'fast-check'
import { startRedis } from '@sms-verify/testing'
import { createRedis, defineSendScript, defineVerifyScript, keys, partition, PURPOSES, sendScript, verifyScript, type E164, type Purpose, type SendSettings } from '../src/index.js'

// The guessing bound (docs/abuse-guards.md), checked against the real send.lua and verify.lua:
// over random interleavings of sends and verifies from many client addresses, the guesses
// checked against one number's codes within 24 h never exceed
// 2 x VERIFY_MAX_ATTEMPTS x SMS_DAILY_LIMIT_PER_MOBILE, nor 2 x VERIFY_MAX_ATTEMPTS per code;
// and whatever happened, a fresh address that gets a fresh code can check it.

const MAX_TRIES = 2
const DAILY_LIMIT = 3
const FAILURES_PER_DAY = 3
const CODE_TTL_MS = 300_000
const CLIENTS = ['198.51.100.1', '198.51.100.2', '203.0.113.9', '2001:db8:1:2::/64', '2001:db8:9:9::/64', '192.0.2.77']

const server = await startRedis()
t.teardown(() => server.stop())
const redis = createRedis({ REDIS_URL: server.url, REDIS_CLUSTER_NODES: [] })
t.teardown(() => redis.disconnect())
const k = keys(partition(0, 1, false))

type Step =
  | { op: 'send', client: string, purpose: Purpose }
  | { op: 'guess', client: string, purpose: Purpose, right: boolean }
  | { op: 'wait', ms: number }

const client = fc.constantFrom(...CLIENTS)
// mostly one purpose, so guesses meet live codes; the others still interleave
const purpose: fc.Arbitrary<Purpose> = fc.oneof({ weight: 6, arbitrary: fc.constant('register' as const) }, { weight: 1, arbitrary: fc.constantFrom(...PURPOSES) })
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ op: fc.constant('send' as const), client, purpose }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('guess' as const), client, purpose, right: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 20 * 60_000 }) }) },
)

let run = 0
let mostPerNumber = 0
let mostPerCode = 0
const hmacOf = (requestId: string) => `right-${requestId}`

const sendSettings: SendSettings = {
  codeTtlMs: CODE_TTL_MS, resendIntervalMs: 0, dailyLimit: DAILY_LIMIT, statusTtlMs: CODE_TTL_MS * 2, idempotencyTtlMs: 1000,
  streamCap: 1_000_000, ipLimitPerHour: 1000, budgetPerMinute: 0, requestLimit: 100000, requestWindowMs: 60000,
}

async function send(mobile: E164, who: string, p: Purpose, now: number, requestId: string) {
  return await defineSendScript([redis], sendSettings)(redis,
    sendScript.keys({ number: k.number(mobile), request: k.request(requestId), stream: k.jobs, idempotency: k.idempotency('-') }),
    sendScript.args(sendSettings, { now, requestId, mobile, purpose: p, codeHmac: hmacOf(requestId), idempotencyFingerprint: '', testNumber: false,
      client: who, jobCode: { code: '000000' } }),
  ) as (string | number)[]
}

const verifyOn = defineVerifyScript([redis], { maxTries: MAX_TRIES, maxFailuresPerDay: FAILURES_PER_DAY, requestLimit: 0, requestWindowMs: 0 })

async function verify(mobile: E164, who: string, p: Purpose, now: number, hmac: string) {
  return verifyScript.reply(await verifyOn(redis,
    verifyScript.keys({ number: k.number(mobile), failures: k.clientVerifyFailures(mobile, who) }),
    verifyScript.args({ now, codeHmac: hmac, requestPrefix: k.requestPrefix, client: who, purpose: p })))
}

t.test('guesses per number per 24 h stay within 2 x attempts x daily codes, from any number of addresses', async (t) => {
  const property = fc.asyncProperty(fc.array(step, { minLength: 20, maxLength: 100 }), async (steps) => {
    const mobile = `+86139${String(run++).padStart(8, '0')}` as E164
    let now = 1_700_000_000_000
    const live = new Map<Purpose, string>() // purpose → request id of the code that send.lua keeps
    const checked = new Map<string, number>() // request id → guesses checked against it
    let total = 0
    for (const [i, s] of steps.entries()) {
      if (s.op === 'wait') { now += s.ms; continue }
      if (s.op === 'send') {
        const id = `0-r${run}s${i}`
        if ((await send(mobile, s.client, s.purpose, now, id))[0] === 'ok') live.set(s.purpose, id)
        continue
      }
      const id = live.get(s.purpose)
      const outcome = await verify(mobile, s.client, s.purpose, now, s.right && id ? hmacOf(id) : 'wrong')
      const guessed = outcome.kind === 'wrong_code' || outcome.kind === 'verified' || (outcome.kind === 'too_many_attempts' && outcome.guessed)
      if (outcome.kind === 'verified') live.delete(s.purpose)
      if (!guessed) continue
      total++
      checked.set(id!, (checked.get(id!) ?? 0) + 1)
      mostPerCode = Math.max(mostPerCode, checked.get(id!)!)
      if (checked.get(id!)! > 2 * MAX_TRIES) return false
    }
    mostPerNumber = Math.max(mostPerNumber, total)
    if (total > 2 * MAX_TRIES * DAILY_LIMIT) return false
    // whatever came before: a fresh address that is allowed a fresh code can check it
    const fresh = '192.0.2.250'
    const id = `0-r${run}fresh`
    const sent = await send(mobile, fresh, 'login', now, id)
    if (sent[0] !== 'ok') return sent[0] === 'daily_limit'
    return (await verify(mobile, fresh, 'login', now, hmacOf(id))).kind === 'verified'
  })
  const out = await fc.check(property, { numRuns: 200 })
  t.notOk(out.failed, out.failed ? `counterexample ${fc.stringify(out.counterexample)} (seed ${out.seed}, path ${out.counterexamplePath})` : `held over ${out.numRuns} interleavings`)
  t.comment(`most guesses checked: ${mostPerNumber} per number (bound ${2 * MAX_TRIES * DAILY_LIMIT}), ${mostPerCode} per code (bound ${2 * MAX_TRIES})`)
  if (out.failed) t.comment(`replay with fc.check(property, { seed: ${out.seed}, path: '${out.counterexamplePath}' })`)
})
