// A provider for tests only (never in the product's provider list). Per number it can be
// told to succeed, fail transiently, fail permanently, hit a carrier limit or stall; every
// call and every delivery is recorded in the test Redis, so double sends are visible across
// processes. main.ts loads it through SENDER_TEST_PROVIDER_MODULE.
import { Redis } from 'ioredis'

export const TEST_KEYS = {
  /**
   * hash mobile -> behaviour: ok | transient | transient:N (the first N calls) | permanent | carrier:MS
   * | stall | stall:N (the first N calls stall until aborted) | slow:MS | slowfail:MS (transient after MS)
   */
  behaviour: 'test:behaviour',
  /** list of JSON {requestId, mobile, pid, t} per accepted message */
  deliveries: 'test:deliveries',
  /** list of JSON {requestId, n, outcome, t, pid} per call */
  calls: 'test:calls',
  /** hash requestId -> calls so far */
  callCount: 'test:callcount',
}

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const t = setTimeout(resolve, ms)
  signal?.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason ?? new Error('aborted')) }, { once: true })
})

/**
 * @param {{ redis: import('ioredis').Redis, name?: string, latencyMs?: number, transientRate?: number }} o
 * transientRate: each of a request's first 3 calls fails transiently with this probability
 * (so a job always gets through within SEND_MAX_ATTEMPTS=5).
 */
export function makeTestProvider({ redis, name = 'test', latencyMs = 0, transientRate = 0 }) {
  const decide = async (requestId, mobile, signal) => {
    const [behaviour, n] = await Promise.all([redis.hget(TEST_KEYS.behaviour, mobile), redis.hincrby(TEST_KEYS.callCount, requestId, 1)])
    const b = behaviour ?? 'ok'
    if (latencyMs > 0) await sleep(latencyMs, signal)
    let outcome
    if (b === 'stall' || (b.startsWith('stall:') && n <= Number(b.slice(6)))) {
      await sleep(3_600_000, signal)
    } else if (b.startsWith('slow:') || b.startsWith('slowfail:')) {
      await sleep(Number(b.slice(b.indexOf(':') + 1)), signal)
    }
    if (b === 'transient' || b.startsWith('slowfail:') || (b.startsWith('transient:') && n <= Number(b.slice(10)))) outcome = { kind: 'transient', error: 'test: provider busy' }
    else if (b === 'permanent') outcome = { kind: 'permanent', error: 'test: invalid number' }
    else if (b.startsWith('carrier:')) outcome = { kind: 'carrier_limit', error: 'test: carrier frequency limit', blockedUntil: Date.now() + Number(b.slice(8)) }
    else if (transientRate > 0 && n <= 3 && Math.random() < transientRate) outcome = { kind: 'transient', error: 'test: random transient' }
    else outcome = { kind: 'accepted', messageId: `${name}-${requestId}-${mobile}-${n}` }
    const t = Date.now()
    await redis.rpush(TEST_KEYS.calls, JSON.stringify({ requestId, mobile, n, outcome: outcome.kind, t, pid: process.pid, provider: name }))
    if (outcome.kind === 'accepted') await redis.rpush(TEST_KEYS.deliveries, JSON.stringify({ requestId, mobile, t, pid: process.pid, provider: name }))
    return outcome
  }
  return {
    name,
    send: (message, signal) => decide(message.requestId, message.mobile, signal),
    sendBulk: (message, signal) => Promise.all(message.mobiles.map((m) => decide(`${message.requestId}:${m}`, m, signal))),
  }
}

/** The SENDER_TEST_PROVIDER_MODULE entry point, configured by TEST_PROVIDER_* variables. */
export function createProvider(config) {
  const redis = new Redis(process.env.TEST_PROVIDER_REDIS_URL ?? config.REDIS_URL, { maxRetriesPerRequest: null })
  return makeTestProvider({
    redis,
    latencyMs: Number(process.env.TEST_PROVIDER_LATENCY_MS ?? 0),
    transientRate: Number(process.env.TEST_PROVIDER_TRANSIENT_RATE ?? 0),
  })
}
