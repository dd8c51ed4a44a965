import t from 'tap'
import fc from 'fast-check'
import { startRedis } from '@sms-verify/testing'
import { createRedis, defineSendScript, keys, numberFields, partition, sendScript, type E164, type SendSettings } from '../src/index.js'

// The daily window lives in one hash field as the times of its newest entries
// (lua/lib/recent-times.lua) instead of a sorted set of every entry. Over random sends at
// random times, the real send.lua must decide exactly what a rolling 24 h window over every
// accepted send decides: accept while fewer than the limit fall inside it, else refuse with
// the wait until the one that fills it slides out. DAILY_WINDOW_SEED replays a run.

const SEED = Number(process.env.DAILY_WINDOW_SEED ?? Date.now() % 2 ** 31)
const CODE_TTL_MS = 300_000
const WINDOW_MS = 86_400_000 + CODE_TTL_MS

const server = await startRedis()
t.teardown(() => server.stop())
const redis = createRedis({ REDIS_URL: server.url, REDIS_CLUSTER_NODES: [] })
t.teardown(() => redis.disconnect())
const k = keys(partition(0, 1, false))
let run = 0

async function send(mobile: E164, now: number, requestId: string, dailyLimit: number, testNumber = false): Promise<(string | number)[]> {
  const settings: SendSettings = {
    codeTtlMs: CODE_TTL_MS, resendIntervalMs: 0, dailyLimit, statusTtlMs: CODE_TTL_MS, idempotencyTtlMs: 1000, streamCap: 1_000_000,
    ipLimitPerHour: 0, budgetPerMinute: 0, requestLimit: 0, requestWindowMs: 0,
  }
  return await defineSendScript([redis], settings)(redis,
    sendScript.keys({ number: k.number(mobile), request: k.request(requestId), stream: k.jobs, idempotency: k.idempotency('-') }),
    sendScript.args(settings, { now, requestId, mobile, purpose: 'login', codeHmac: 'h', idempotencyFingerprint: '', testNumber, client: 'c', jobCode: { code: '000000' } }),
  ) as (string | number)[]
}

/** The rolling window over every accepted send: undefined when there is room, else the wait. */
function modelWait(accepted: number[], now: number, limit: number): number | undefined {
  const inside = accepted.filter((at) => at > now - WINDOW_MS)
  if (inside.length < limit) return undefined
  return Math.max(1, inside[inside.length - limit]! + WINDOW_MS - now)
}

t.test('the daily window decides as a rolling 24 h window over every accepted send', async (t) => {
  // gaps from none (same millisecond) to past the whole window, and the window's edge exactly
  const gap = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3_600_000 }), fc.integer({ min: 3_600_000, max: WINDOW_MS + 1 }),
    fc.constantFrom(WINDOW_MS - 1, WINDOW_MS, WINDOW_MS + 1))
  const property = fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.array(gap, { minLength: 1, maxLength: 40 }), async (limit, gaps) => {
    const mobile = `+86137${String(run++).padStart(8, '0')}` as E164
    const accepted: number[] = []
    let now = 1_700_000_000_000
    for (const [i, g] of gaps.entries()) {
      now += g
      const expected = modelWait(accepted, now, limit)
      const reply = await send(mobile, now, `0-w${run}-${i}`, limit)
      if (expected === undefined) {
        if (reply[0] !== 'ok') throw new Error(`send ${i} at +${now - 1_700_000_000_000} ms: expected ok, got ${String(reply)}`)
        accepted.push(now)
      } else if (reply[0] !== 'daily_limit' || reply[1] !== expected) {
        throw new Error(`send ${i}: expected daily_limit ${expected}, got ${String(reply)}`)
      }
      const kept = (await redis.hget(k.number(mobile), numberFields.sends))?.split(',') ?? []
      if (kept.length > limit) throw new Error(`the window keeps ${kept.length} times, over the limit ${limit}`)
    }
  })
  const out = await fc.check(property, { numRuns: 150, seed: SEED })
  t.comment(`daily window seed ${SEED}: replay with DAILY_WINDOW_SEED=${SEED}`)
  t.notOk(out.failed, out.failed ? `DAILY_WINDOW_SEED=${SEED}: ${String(out.errorInstance)}, counterexample ${fc.stringify(out.counterexample)}` : `held over ${out.numRuns} runs`)
})

t.test('the number hash lives as long as the daily window, and a test number only as long as its code', async (t) => {
  const mobile = '+8613600000001' as E164
  t.equal((await send(mobile, Date.now(), '0-ttl', 10))[0], 'ok')
  const ttl = await redis.pttl(k.number(mobile))
  t.ok(ttl > WINDOW_MS - 60_000 && ttl <= WINDOW_MS, `number hash ttl ${ttl} ms`)
  const testMobile = '+8613600000002' as E164
  t.equal((await send(testMobile, Date.now(), '0-ttl-test', 10, true))[0], 'ok')
  const testTtl = await redis.pttl(k.number(testMobile))
  t.ok(testTtl > CODE_TTL_MS - 60_000 && testTtl <= CODE_TTL_MS, `test number hash ttl ${testTtl} ms`)
  t.equal(await redis.hget(k.number(testMobile), numberFields.sends), null, 'a test number counts no daily send')
})
