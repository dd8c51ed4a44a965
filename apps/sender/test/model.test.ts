import { GROUP, bulkJobs, createRedis, keys, recordOf, partition, type Config, type RedisClient } from '@sms-verify/shared'
import { startRedis, waitFor } from '@sms-verify/testing'
import fc from 'fast-check'
import { pino } from 'pino'
import t from 'tap'
import type { BulkMessage, CodeMessage, Provider, SendOutcome } from '../src/provider.js'
import { Sender } from '../src/sender.js'
import { enqueueBulk, enqueueCode, mobileOf, statusOf, testConfig } from './helpers/jobs.js'

// A model test of the sender's guarantees: random schedules of code and bulk jobs, provider
// answers, sender crashes mid-call (a new Sender over the same Redis, the old one abandoned with
// its call in flight) and Redis restarts (same --dir, appendonly), checked against a model:
//  - each code is delivered at most once; twice only when a sender died between the carrier
//    taking it and its completion being written (the crash window: its done marker was missing)
//  - each job ends sent, failed with a reason, or expired
//  - no recipient of a bulk job is lost: every number reads sent or failed, and was sent at
//    most once (twice only in the crash window of its job)
// MODEL_RUNS and MODEL_SEED replay a run; the seed is printed first, and again on failure.
const RUNS = Number(process.env.MODEL_RUNS ?? 150)
const SEED = Number(process.env.MODEL_SEED ?? Date.now() % 2 ** 31)

const server = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] })
const plain = server.client()
t.teardown(() => server.stop())
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })
const p0 = partition(0, 1, false)
const k0 = keys(p0)

type Answer = 'accepted' | 'transient' | 'permanent' | 'timeout' | 'carrier_limit'
type Step =
  | { kind: 'code', expired: boolean }
  | { kind: 'bulk', size: number }
  | { kind: 'tick' }
  /** the next provider call hangs; the sender dies then; the carrier did or did not take it */
  | { kind: 'crash', delivered: boolean }
  | { kind: 'restartRedis' }

const answer: fc.Arbitrary<Answer> = fc.oneof(
  { arbitrary: fc.constant('accepted' as const), weight: 6 },
  { arbitrary: fc.constant('transient' as const), weight: 3 },
  { arbitrary: fc.constant('permanent' as const), weight: 1 },
  { arbitrary: fc.constant('carrier_limit' as const), weight: 1 },
  { arbitrary: fc.constant('timeout' as const), weight: 1 },
)
const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('code' as const), expired: fc.boolean() }), weight: 30 },
  { arbitrary: fc.record({ kind: fc.constant('bulk' as const), size: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 199, max: 450 })) }), weight: 12 },
  { arbitrary: fc.constant({ kind: 'tick' as const }), weight: 24 },
  // Each crash and each timeout costs a lease (PROVIDER_TIMEOUT_MS + 200 ms) of waiting, and a
  // Redis restart about a second on this machine: rarer, so 200 runs stay within about a minute.
  { arbitrary: fc.record({ kind: fc.constant('crash' as const), delivered: fc.boolean() }), weight: 6 },
  { arbitrary: fc.constant({ kind: 'restartRedis' as const }), weight: 1 },
)
const schedule = fc.record({ steps: fc.array(step, { minLength: 1, maxLength: 10 }), answers: fc.array(answer, { maxLength: 10 }) })

interface Call { readonly requestId: string, readonly mobiles: readonly string[], readonly instance: number, delivered: boolean }

/** The outside world: answers calls from a script (then accepts), and can hang one call while its sender dies. */
class ScriptedProvider implements Provider {
  readonly name = 'scripted'
  readonly calls: Call[] = []
  instance = 0
  /** set by a crash step: the next call hangs and this runs at once, while it is in flight */
  onNextCall: ((call: Call) => void) | undefined
  #answers: Answer[]
  constructor(answers: readonly Answer[]) { this.#answers = [...answers] }

  async send(m: CodeMessage, signal: AbortSignal): Promise<SendOutcome> { return (await this.#call(m.requestId, [m.mobile], signal))[0]! }
  sendBulk(m: BulkMessage, signal: AbortSignal): Promise<SendOutcome[]> { return this.#call(m.requestId, m.mobiles, signal) }

  async #call(requestId: string, mobiles: readonly string[], signal: AbortSignal): Promise<SendOutcome[]> {
    const call: Call = { requestId, mobiles, instance: this.instance, delivered: false }
    this.calls.push(call)
    const hang = this.onNextCall
    if (hang) {
      this.onNextCall = undefined
      hang(call) // the sender that made this call is dead now; call.delivered says whether the carrier took it
      if (call.delivered) return mobiles.map(() => ({ kind: 'accepted', messageId: `m${this.calls.length}` }))
      return abortOf(signal)
    }
    const a = this.#answers.shift() ?? 'accepted'
    switch (a) {
      case 'accepted':
        call.delivered = true
        return mobiles.map((_, i) => ({ kind: 'accepted', messageId: `m${this.calls.length}-${i}` }))
      case 'transient': return mobiles.map(() => ({ kind: 'transient', error: 'scripted: busy' }))
      case 'permanent': return mobiles.map(() => ({ kind: 'permanent', error: 'scripted: invalid number' }))
      case 'carrier_limit': return mobiles.map(() => ({ kind: 'carrier_limit', error: 'scripted: frequency limit', blockedUntil: Date.now() + 1000 }))
      case 'timeout': return abortOf(signal)
    }
  }
}

/** A call that never answers: the failover chain cuts it off at PROVIDER_TIMEOUT_MS. */
const abortOf = (signal: AbortSignal) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }))

const env = {
  REDIS_URL: server.url, SENDER_CONCURRENCY: 4, SEND_MAX_ATTEMPTS: 3, PROVIDER_TIMEOUT_MS: 40, SENDER_CLAIM_IDLE_MS: 10,
  SEND_BACKOFF_BASE_MS: 5, SEND_BACKOFF_CAP_MS: 20, SENDER_CIRCUIT_THRESHOLD: 1000,
}

interface Run { config: Config, provider: ScriptedProvider, sender: Sender, redis: RedisClient }

function newSender(run: Omit<Run, 'sender' | 'redis'>): { sender: Sender, redis: RedisClient } {
  const redis = createRedis(run.config)
  redis.on('error', () => undefined)
  return { redis, sender: new Sender({ config: run.config, redis, provider: run.provider, logger }) }
}

const FINAL = new Set(['sent', 'failed', 'expired'])

async function runSchedule(s: { steps: Step[], answers: Answer[] }): Promise<void> {
  await plain.flushall()
  const config = testConfig(env)
  const provider = new ScriptedProvider(s.answers)
  const run: Run = { config, provider, ...newSender({ config, provider }) }
  const codes: string[] = []
  const bulks: Array<{ id: string, mobiles: string[], jobOf: Map<string, string> }> = []
  /** jobs (by id) whose delivery a dead sender may not have recorded: a second delivery is allowed */
  const window = new Set<string>()
  const jobIdOfCall = (c: Call, mobile: string) => bulks.find((b) => b.id === c.requestId)?.jobOf.get(mobile) ?? c.requestId
  let mobiles = 0
  const abandoned: Array<Promise<unknown>> = []
  try {
    for (const st of s.steps) {
      switch (st.kind) {
        case 'code':
          codes.push(await enqueueCode(plain, mobileOf(mobiles++), { ttlMs: 60_000, ...(st.expired ? { expiresAt: Date.now() - 1 } : {}) }))
          break
        case 'bulk': {
          const list = Array.from({ length: st.size }, () => mobileOf(mobiles++))
          const id = await enqueueBulk(plain, list)
          const jobOf = new Map<string, string>()
          for (const job of bulkJobs({ requestId: id, mobiles: list, params: [], createdAt: 0, expiresAt: 0 })) for (const m of job.mobiles) jobOf.set(m, job.jobId!)
          bulks.push({ id, mobiles: list, jobOf })
          break
        }
        case 'tick':
          await run.sender.tick()
          break
        case 'restartRedis':
          await server.kill()
          await server.start()
          break
        case 'crash': {
          const dead = run.sender
          const deadRedis = run.redis
          const killed = run.provider.instance
          let crashed: (() => void) | undefined
          const crashedNow = new Promise<void>((resolve) => { crashed = resolve })
          provider.onNextCall = (call) => {
            deadRedis.disconnect() // nothing it does from here on reaches Redis
            call.delivered = st.delivered
            crashed!()
          }
          const ticking = dead.tick().catch(() => undefined)
          const ended = await Promise.race([crashedNow.then(() => 'crashed' as const), ticking.then(() => 'idle' as const)])
          if (ended === 'idle') { provider.onNextCall = undefined; deadRedis.disconnect() }
          abandoned.push(ticking, dead.close(Date.now() - 1).catch(() => undefined))
          // The model's crash window: a delivery by the dead sender whose done marker is missing.
          for (const c of provider.calls) {
            if (c.instance !== killed || !c.delivered) continue
            for (const m of c.mobiles) {
              const jobId = jobIdOfCall(c, m)
              if (await plain.get(k0.lease(jobId)) !== 'done') window.add(jobId)
            }
          }
          provider.instance++
          Object.assign(run, newSender({ config, provider }))
          break
        }
      }
    }
    const allEnded = async () => {
      const statuses = await Promise.all([...codes, ...bulks.map((b) => b.id)].map(async (id) => (await statusOf(plain, id)).status))
      const pending = (await plain.xpending(p0.stream, GROUP) as [number])[0]
      return statuses.every((x) => x !== undefined && FINAL.has(x)) && pending === 0 && (await plain.zcard(k0.retries)) === 0
    }
    await waitFor(async () => { await run.sender.tick(); return allEnded() }, { timeout: 15_000, interval: 5, what: 'every job to end' })
    await checkModel(provider, codes, bulks, window)
  } finally {
    await run.sender.close()
    run.redis.disconnect()
    await Promise.all(abandoned)
  }
}

function fail(message: string): never { throw new Error(message) }

async function checkModel(provider: ScriptedProvider, codes: string[], bulks: Array<{ id: string, mobiles: string[], jobOf: Map<string, string> }>, window: Set<string>) {
  const delivered = new Map<string, number>()
  for (const c of provider.calls) if (c.delivered) for (const m of c.mobiles) delivered.set(`${c.requestId}/${m}`, (delivered.get(`${c.requestId}/${m}`) ?? 0) + 1)
  const dead = (await plain.xrange(p0.deadStream, '-', '+')).map(([, f]) => recordOf<string>(f))
  for (const id of codes) {
    const st = await statusOf(plain, id)
    const n = [...delivered].filter(([key]) => key.startsWith(`${id}/`)).reduce((a, [, v]) => a + v, 0)
    const allowed = window.has(id) ? 2 : 1
    if (n > allowed) fail(`code ${id} delivered ${n} times (allowed ${allowed}); status ${st.status}`)
    if (st.status === 'sent' && n === 0) fail(`code ${id} reads sent but the carrier never took it`)
    if (st.status === 'failed') {
      if (!st.failReason) fail(`code ${id} failed without a reason`)
      if (!dead.some((d) => d.requestId === id && d.reason === st.failReason)) fail(`code ${id} failed (${st.failReason}) without its dead letter`)
    }
    if (st.status === 'expired' && n > 0 && !window.has(id)) fail(`code ${id} reads expired but was delivered`)
  }
  for (const b of bulks) {
    const st = await statusOf(plain, b.id)
    const results = JSON.parse(st.results ?? '{}') as Record<string, { status: string, reason?: string }>
    let sent = 0
    for (const m of b.mobiles) {
      const r = results[m]
      const n = delivered.get(`${b.id}/${m}`) ?? 0
      const allowed = window.has(b.jobOf.get(m)!) ? 2 : 1
      if (st.status === 'expired') continue
      if (!r) fail(`bulk ${b.id}: recipient ${m} lost (no result; ${Object.keys(results).length} of ${b.mobiles.length} have one, status ${st.status}, sent ${st.sent})`)
      if (n > allowed) fail(`bulk ${b.id}: ${m} delivered ${n} times (allowed ${allowed})`)
      if (r.status === 'sent') { sent++; if (n === 0) fail(`bulk ${b.id}: ${m} reads sent but the carrier never took it`) }
      else if (r.status !== 'failed' || !r.reason) fail(`bulk ${b.id}: ${m} reads ${JSON.stringify(r)}`)
    }
    if (st.status !== 'expired') {
      if (Number(st.sent) !== sent || Number(st.sent) + Number(st.failed) !== b.mobiles.length) fail(`bulk ${b.id}: sent ${st.sent} failed ${st.failed} of ${b.mobiles.length}`)
      if (st.status !== (sent > 0 ? 'sent' : 'failed')) fail(`bulk ${b.id} reads ${st.status} with ${sent} sent`)
    }
  }
}

t.test(`the sender against its model: ${RUNS} random schedules (seed ${SEED})`, async (t) => {
  t.comment(`model test seed ${SEED}: replay with MODEL_SEED=${SEED}`)
  const run = await fc.check(fc.asyncProperty(schedule, runSchedule), { numRuns: RUNS, seed: SEED, endOnFailure: true })
  const err = run.errorInstance
  const cause = err instanceof Error && err.cause instanceof Error ? `\ncause: ${err.cause.message}` : ''
  t.notOk(run.failed, run.failed ? `model broken (MODEL_SEED=${SEED}): ${fc.defaultReportMessage(run)}${cause}` : `${RUNS} schedules held`)
  t.equal(run.numRuns, RUNS, 'every schedule ran')
})
