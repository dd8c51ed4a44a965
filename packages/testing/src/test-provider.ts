// A provider for tests only (never in the product's provider list). Per number it can be
// told to succeed, fail transiently, fail permanently, hit a carrier limit or stall; every
// call and every delivery is recorded in the test Redis, so double sends are visible across
// processes. A spawned sender loads the built file through SENDER_TEST_PROVIDER_MODULE
// (testProviderModule); in-process tests hand makeTestProvider to the Sender directly.
import { fileURLToPath } from 'node:url'
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
} as const

/**
 * SENDER_TEST_PROVIDER_MODULE for a spawned sender: the built file (`pnpm build` builds this
 * package first), the same path from src and from dist.
 */
export const testProviderModule = fileURLToPath(new URL('../dist/test-provider.js', import.meta.url))

/** The sender's SendOutcome, spelled here because this package imports nothing from the apps. */
export type TestOutcome =
  | { kind: 'accepted', messageId: string }
  | { kind: 'transient', error: string }
  | { kind: 'permanent', error: string }
  | { kind: 'carrier_limit', error: string, blockedUntil: number }

export interface TestProvider {
  readonly name: string
  send(message: { requestId: string, mobile: string }, signal: AbortSignal): Promise<TestOutcome>
  sendBulk(message: { requestId: string, mobiles: readonly string[] }, signal: AbortSignal): Promise<TestOutcome[]>
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
  const t = setTimeout(resolve, ms)
  signal?.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason ?? new Error('aborted')) }, { once: true })
})

/**
 * transientRate: each of a request's first 3 calls fails transiently with this probability
 * (so a job always gets through within SEND_MAX_ATTEMPTS=5).
 */
export function makeTestProvider({ redis, name = 'test', latencyMs = 0, transientRate = 0 }:
  { redis: Redis, name?: string, latencyMs?: number, transientRate?: number }): TestProvider {
  const decide = async (requestId: string, mobile: string, signal: AbortSignal): Promise<TestOutcome> => {
    const [behaviour, n] = await Promise.all([redis.hget(TEST_KEYS.behaviour, mobile), redis.hincrby(TEST_KEYS.callCount, requestId, 1)])
    const b = behaviour ?? 'ok'
    if (latencyMs > 0) await sleep(latencyMs, signal)
    let outcome: TestOutcome
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
export function createProvider(config: { REDIS_URL: string }): TestProvider {
  return makeTestProvider({
    redis: new Redis(process.env.TEST_PROVIDER_REDIS_URL ?? config.REDIS_URL, { maxRetriesPerRequest: null }),
    latencyMs: Number(process.env.TEST_PROVIDER_LATENCY_MS ?? 0),
    transientRate: Number(process.env.TEST_PROVIDER_TRANSIENT_RATE ?? 0),
  })
}
