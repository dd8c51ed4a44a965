import { Writable } from 'node:stream'
import { createRedis, decodePausedSender, globalKeys } from '@sms-verify/shared'
import type { Redis } from 'ioredis'
import { startRedis, waitFor } from '@sms-verify/testing'
import { pino } from 'pino'
import t from 'tap'
import { SenderMetrics } from '../src/metrics.js'
import type { Provider, SendOutcome } from '../src/provider.js'
import { Sender } from '../src/sender.js'
import { enqueueCode, mobileOf, statusOf, testConfig } from './helpers/jobs.js'

const server = await startRedis()
t.teardown(() => server.stop())
const plain = server.client()
t.beforeEach(async () => { await plain.flushall() })

/** A carrier that fails the first `failures` calls transiently (all of them when Infinity), then accepts; it records every call. */
function carrier(name: string, failures: number) {
  const calls: Array<{ requestId: string, kind: SendOutcome['kind'], at: number }> = []
  const answer = (requestId: string): SendOutcome => {
    const kind = calls.length < failures ? 'transient' : 'accepted'
    calls.push({ requestId, kind, at: Date.now() })
    return kind === 'transient' ? { kind, error: `${name}: carrier down` } : { kind, messageId: `${name}-${calls.length}` }
  }
  const provider: Provider = {
    name,
    async send(m) { await new Promise((resolve) => setImmediate(resolve)); return answer(m.requestId) },
    async sendBulk(m) { return m.mobiles.map(() => answer(m.requestId)) },
  }
  return { provider, calls }
}

const PAUSED = "sender paused: every provider's circuit is open"
const RESUMED = 'sender resumed'

/**
 * Log lines as objects, to assert what an operator reads. At the pause and the resume lines
 * it reads Redis's command count at once: a poll of `paused` could see the resume late, after
 * the resumed sender's own commands.
 */
function capturedLogger() {
  const lines: Array<Record<string, unknown>> = []
  const commandsAt = new Map<string, Promise<number>>()
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      const line = JSON.parse(chunk.toString()) as Record<string, unknown>
      lines.push(line)
      if ((line.msg === PAUSED || line.msg === RESUMED) && !commandsAt.has(line.msg)) commandsAt.set(line.msg, commandsRun().catch(() => Number.NaN))
      done()
    },
  })
  return { logger: pino({ level: 'info' }, stream), lines, commandsAt }
}

/** Commands Redis has run (INFO commandstats), the INFO calls themselves left out. */
async function commandsRun(): Promise<number> {
  const info = await plain.info('commandstats')
  let total = 0
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (m[1] !== 'info') total += Number(m[2])
  return total
}

async function circuitGauge(metrics: SenderMetrics, provider: string): Promise<number | undefined> {
  const text = await metrics.registry.metrics()
  const m = new RegExp(`^sms_provider_circuit_open\\{provider="${provider}"\\} (\\d+)$`, 'm').exec(text)
  return m ? Number(m[1]) : undefined
}

function startSender(env: Record<string, number>, provider: Provider, logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })) {
  const config = testConfig({ REDIS_URL: server.url, SENDER_CIRCUIT_THRESHOLD: 5, SENDER_BLOCK_MS: 200, ...env })
  const redis = createRedis(config)
  const metrics = new SenderMetrics()
  const sender = new Sender({ config, redis, provider, logger, metrics })
  return { sender, redis: redis as Redis, metrics, stop: async () => { await sender.close(); redis.disconnect() } }
}

t.test('one sender, a carrier failing five times then recovering: it pauses, costs Redis next to nothing, and delivers everything', async (t) => {
  const jobs = 40
  const ids = await Promise.all(Array.from({ length: jobs }, (_, i) => enqueueCode(plain, mobileOf(100 + i))))
  const flaky = carrier('flaky', 5)
  const { logger, lines, commandsAt } = capturedLogger()
  // One slot: the five failing calls come one after another, so the fifth opens the circuit (threshold 5).
  const s = startSender({ SENDER_CONCURRENCY: 1, SENDER_CIRCUIT_COOLDOWN_MS: 1000, SEND_BACKOFF_BASE_MS: 400, SEND_BACKOFF_CAP_MS: 400 }, flaky.provider, logger)
  t.teardown(s.stop)
  await s.sender.start()

  await waitFor(() => s.sender.paused, { timeout: 10_000, interval: 2, what: 'the sender to pause' })
  t.equal(await circuitGauge(s.metrics, 'flaky'), 1, 'the gauge shows the open circuit')
  const record = decodePausedSender((await plain.get(globalKeys.pausedSender(s.sender.consumer))) ?? await waitFor(() => plain.get(globalKeys.pausedSender(s.sender.consumer))))
  t.match(record, { consumer: s.sender.consumer, providers: ['flaky'] }, 'the pause record for pnpm sms stats')
  t.ok(await plain.pttl(globalKeys.pausedSender(s.sender.consumer)) > 0, 'the record has a TTL')

  await waitFor(() => !s.sender.paused, { timeout: 10_000, interval: 2, what: 'the sender to resume' })
  const pausedAt = Number(lines.find((l) => l.msg === PAUSED)?.time)
  const resumedAt = Number(lines.find((l) => l.msg === RESUMED)?.time)
  t.same(flaky.calls.filter((c) => c.at > pausedAt && c.at < resumedAt), [], 'no provider call while paused')
  const used = (await commandsAt.get(RESUMED)!) - (await commandsAt.get(PAUSED)!)
  t.ok(used <= 5 * jobs, `Redis commands while paused: ${used} for ${jobs} jobs (at most 5 per job)`)

  await waitFor(async () => (await Promise.all(ids.map((id) => statusOf(plain, id)))).every((st) => st.status === 'sent'),
    { timeout: 15_000, what: 'every job to be sent' })
  t.equal(flaky.calls.filter((c) => c.kind === 'transient').length, 5, 'five failed calls')
  t.same(flaky.calls.filter((c) => c.kind === 'accepted').map((c) => c.requestId).sort(), [...ids].sort(), 'each job accepted exactly once')
  t.equal(await circuitGauge(s.metrics, 'flaky'), 0, 'the gauge shows the circuit closed again')
  t.equal(await plain.exists(globalKeys.pausedSender(s.sender.consumer)), 0, 'the pause record is gone')
  const paused = lines.find((l) => l.msg === PAUSED)
  t.match(paused, { providers: ['flaky'], resumeAt: String }, 'the pause is logged with providers and resumeAt')
  t.equal(lines.filter((l) => l.msg === RESUMED).length, 1, 'the resume is logged, once')
  t.equal(lines.filter((l) => l.msg === PAUSED).length, 1, 'one pause: no flapping')
})

t.test('two senders, one with its circuit open: everything goes through the other; the paused one calls and leases nothing', async (t) => {
  const jobs = 12
  const ids = await Promise.all(Array.from({ length: jobs }, (_, i) => enqueueCode(plain, mobileOf(200 + i))))
  const down = carrier('down', Number.POSITIVE_INFINITY)
  const a = startSender({ SENDER_CONCURRENCY: 1, SENDER_CIRCUIT_COOLDOWN_MS: 60_000, SEND_BACKOFF_BASE_MS: 40, SEND_BACKOFF_CAP_MS: 80 }, down.provider)
  t.teardown(a.stop)
  // A's lease calls, seen by Redis: MONITOR lines from A's command connection running lease.lua.
  const leaseSha = (a.redis as unknown as { scriptsSet: Record<string, { sha: string }> }).scriptsSet.senderLease!.sha
  const monitor = await plain.monitor()
  t.teardown(() => monitor.disconnect())
  let leasesWhilePaused = 0
  let leases = 0
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const fromA = source === `${a.redis.stream.localAddress}:${a.redis.stream.localPort}`
    if (!fromA || args[0]?.toLowerCase() !== 'evalsha' || args[1] !== leaseSha) return
    leases++
    if (a.sender.paused) leasesWhilePaused++
  })
  await a.sender.start()
  await waitFor(() => a.sender.paused, { timeout: 10_000, interval: 2, what: 'sender A to pause' })
  t.equal(down.calls.length, 5, 'A called its carrier until the circuit opened')
  t.equal(await circuitGauge(a.metrics, 'down'), 1)

  const up = carrier('up', 0)
  const b = startSender({ SENDER_CLAIM_IDLE_MS: 1000, SEND_BACKOFF_BASE_MS: 40, SEND_BACKOFF_CAP_MS: 80 }, up.provider)
  t.teardown(b.stop)
  await b.sender.start()
  await waitFor(async () => (await Promise.all(ids.map((id) => statusOf(plain, id)))).every((st) => st.status === 'sent'),
    { timeout: 20_000, what: 'every job to be sent through B' })

  t.ok(a.sender.paused, 'A is still paused')
  t.equal(down.calls.length, 5, "A's carrier got no call while paused")
  t.ok(leases > 0, `the monitor sees A's lease calls (${leases} before the pause)`)
  t.equal(leasesWhilePaused, 0, 'A leased nothing while paused')
  t.same(up.calls.map((c) => c.requestId).sort(), [...ids].sort(), 'B sent every job once, those A handed back or failed included')
  t.equal(await circuitGauge(b.metrics, 'up'), 0)
  await a.stop()
  t.equal(await plain.exists(globalKeys.pausedSender(a.sender.consumer)), 0, 'closing a paused sender removes its record')
})
