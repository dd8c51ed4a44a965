import { GROUP, createRedis, partition, recordOf, type Config } from '@sms-verify/shared'
import { makeTestProvider, startRedis, TEST_KEYS, waitFor } from '@sms-verify/testing'
import { pino } from 'pino'
import { Sender, type SenderOptions } from '../../src/sender.js'
import { testConfig } from './jobs.js'

interface Teardown { teardown(fn: () => unknown): void, beforeEach(fn: () => Promise<void>): void }

/** A logger whose lines the test reads. */
export function recordingLogger() {
  const lines: Array<{ level: number, msg: string }> = []
  return { lines, logger: pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line)) } }) }
}

/**
 * One redis-server for a file of in-process Sender tests, emptied before each test, and the
 * reads those tests make of it: what the test provider delivered and called, the pending
 * list's idle times, the dead letters.
 */
export async function senderHarness(t: Teardown) {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const plain = server.client()
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })
  const p0 = partition(0, 1, false)
  t.beforeEach(async () => { await plain.flushall() })

  async function withSender<T>(env: Record<string, string | number>, fn: (s: Sender, config: Config) => Promise<T>,
    extra: Partial<SenderOptions> = {}): Promise<T> {
    const config = testConfig({ REDIS_URL: server.url, SEND_BACKOFF_BASE_MS: 10, SEND_BACKOFF_CAP_MS: 50, ...env })
    const redis = createRedis(config)
    const sender = new Sender({ config, redis, provider: makeTestProvider({ redis: plain }), logger, ...extra })
    try {
      return await fn(sender, config)
    } finally {
      await sender.close()
      redis.disconnect()
    }
  }

  /** Ticks until `done` holds: retries come back through the retry set after their backoff. */
  async function drainUntil(sender: Sender, done: () => Promise<boolean>) {
    await waitFor(async () => { await sender.tick(); return done() }, { timeout: 10_000, interval: 5, what: 'the sender to finish' })
  }

  const deliveries = async () => (await plain.lrange(TEST_KEYS.deliveries, 0, -1)).map((s) => JSON.parse(s) as { requestId: string })
  const callsOf = async (requestId?: string) => (await plain.lrange(TEST_KEYS.calls, 0, -1))
    .map((s) => JSON.parse(s) as { requestId: string, n: number, t: number, outcome: string })
    .filter((c) => requestId === undefined || c.requestId === requestId)
  const idleOf = async (id: string) => {
    const rows = await plain.xpending(p0.stream, GROUP, id, id, 1) as Array<[string, string, number, number]>
    return rows[0] ? Number(rows[0][2]) : -1
  }
  const deadFields = async () => (await plain.xrange(p0.deadStream, '-', '+')).map(([, f]) => recordOf<string>(f))

  return { server, plain, logger, p0, withSender, drainUntil, deliveries, callsOf, idleOf, deadFields }
}
