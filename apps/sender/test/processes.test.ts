import { GROUP, decodeDeadLetter, partition } from '@sms-verify/shared'
import {
  fakeProviderEnv, freePort, startFakeTencent, startRedis, startSenderProcess, TEST_KEYS, testProviderModule, waitFor, type RunningProcess,
} from '@sms-verify/testing'
import t from 'tap'
import { enqueueCode, mobileOf, statusOf } from './helpers/jobs.js'
import { callsIn, deliveriesIn } from './helpers/processes.js'

// Real sender processes (apps/sender/dist/main.js, built by `pnpm test`) against a real redis-server.
const server = await startRedis()
const redis = server.client()
const running: RunningProcess[] = []
t.teardown(async () => {
  await Promise.all(running.map((p) => p.kill('SIGKILL')))
  await server.stop()
})
const p0 = partition(0, 1, false)
const spawn = async (env: Record<string, string | number> = {}) => {
  const p = await startSenderProcess({ REDIS_URL: server.url, SENDER_TEST_PROVIDER_MODULE: testProviderModule, ...env })
  running.push(p)
  return p
}
const stopAll = async () => { await Promise.all(running.splice(0).map((p) => p.kill('SIGTERM'))) }

t.beforeEach(async () => { await redis.flushall() })
t.afterEach(stopAll)

async function enqueueMany(n: number, offset: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i += 200) {
    ids.push(...await Promise.all(Array.from({ length: Math.min(200, n - i) }, (_, j) => enqueueCode(redis, mobileOf(offset + i + j)))))
  }
  return ids
}

const pending = async () => (await redis.xpending(p0.stream, GROUP) as [number])[0]

t.test('three sender processes drain 3000 jobs: each delivered exactly once, work spread over all three', async (t) => {
  await Promise.all([spawn({ TEST_PROVIDER_LATENCY_MS: 2 }), spawn({ TEST_PROVIDER_LATENCY_MS: 2 }), spawn({ TEST_PROVIDER_LATENCY_MS: 2 })])
  const ids = await enqueueMany(3000, 0)
  await waitFor(async () => (await redis.llen(TEST_KEYS.deliveries)) >= 3000, { timeout: 60_000, what: '3000 deliveries' })
  await waitFor(async () => (await pending()) === 0, { what: 'an empty pending list' })
  const deliveries = await deliveriesIn(redis)
  t.equal(deliveries.length, 3000)
  t.equal(new Set(deliveries.map((d) => d.requestId)).size, 3000, 'no request delivered twice')
  const byPid = new Map<number, number>()
  for (const d of deliveries) byPid.set(d.pid, (byPid.get(d.pid) ?? 0) + 1)
  t.equal(byPid.size, 3, `spread: ${JSON.stringify([...byPid.values()])}`)
  for (const n of byPid.values()) t.ok(n >= 300, `each sender took a fair share (${n})`)
  const sample = await Promise.all(ids.slice(0, 50).map((id) => statusOf(redis, id)))
  t.ok(sample.every((s) => s.status === 'sent' && s.attempts === '1'))
})

t.test('40% transient failures: all delivered, none twice, attempts recorded, backoff respected; permanent ones dead-lettered after one call', async (t) => {
  const base = 100
  const env = { TEST_PROVIDER_TRANSIENT_RATE: 0.4, SEND_BACKOFF_BASE_MS: base, SEND_BACKOFF_CAP_MS: 2000 }
  await Promise.all([spawn(env), spawn(env)])
  const permanent = [mobileOf(90_000), mobileOf(90_001)]
  await redis.hset(TEST_KEYS.behaviour, permanent[0]!, 'permanent', permanent[1]!, 'permanent')
  const ids = await enqueueMany(400, 10_000)
  const deadIds = await Promise.all(permanent.map((m) => enqueueCode(redis, m)))
  await waitFor(async () => (await redis.llen(TEST_KEYS.deliveries)) >= 400 && (await redis.xlen(p0.deadStream)) >= 2,
    { timeout: 60_000, what: '400 deliveries and 2 dead letters' })
  const deliveries = await deliveriesIn(redis)
  t.equal(deliveries.length, 400)
  t.equal(new Set(deliveries.map((d) => d.requestId)).size, 400, 'none twice')
  const calls = await callsIn(redis)
  const byRequest = new Map<string, typeof calls>()
  for (const c of calls) byRequest.set(c.requestId, [...(byRequest.get(c.requestId) ?? []), c])
  const failedOnce = [...byRequest.values()].filter((cs) => cs.length > 1)
  t.ok(failedOnce.length > 100, `${failedOnce.length} jobs needed a retry`)
  let mismatched = 0
  for (const id of ids) if ((await statusOf(redis, id)).attempts !== String(byRequest.get(id)?.length)) mismatched++
  t.equal(mismatched, 0, 'attempts on the record = provider calls made')
  // Full jitter: the retry after the (k-1)-th call is due uniformly in [0, base * 2^(k-2)] after it,
  // and is not called before it is due (the record keeps the last retry's due time).
  let early = 0
  let outside = 0
  const delays: number[] = []
  for (const id of ids) {
    const cs = (byRequest.get(id) ?? []).sort((a, b) => a.n - b.n)
    if (cs.length < 2) continue
    const st = await statusOf(redis, id)
    const due = Number(st.retryAt)
    const scheduledAt = Number(st.retryingAt)
    const last = cs[cs.length - 1]!.t
    if (last < due || scheduledAt < cs[cs.length - 2]!.t) early++
    const delay = due - scheduledAt
    delays.push(delay / (base * 2 ** (cs.length - 2)))
    if (delay < 0 || delay > base * 2 ** (cs.length - 2)) outside++
  }
  t.equal(early, 0, 'no retry ran before its due time')
  t.equal(outside, 0, 'every delay within its exponential ceiling')
  const mean = delays.reduce((a, b) => a + b, 0) / delays.length
  t.ok(mean > 0.3 && mean < 0.7, `delays spread over the ceiling (mean ${mean.toFixed(2)} of it, uniform gives 0.5)`)
  for (const id of deadIds) {
    const st = await statusOf(redis, id)
    t.equal(st.status, 'failed')
    t.equal(byRequest.get(id)?.length, 1, 'one call for a permanent failure')
  }
  const dead = await redis.xrange(p0.deadStream, '-', '+')
  t.ok(dead.every(([, f]) => { const d = decodeDeadLetter(f); return d.ok && d.letter.reason === 'permanent' }), 'reason permanent')
  t.equal(await pending(), 0)
})

t.test('SIGKILL of a sender holding in-flight jobs: the survivor delivers each exactly once, not before the lease and claim idle allow', async (t) => {
  const env = { SENDER_CLAIM_IDLE_MS: 300, PROVIDER_TIMEOUT_MS: 2000 }
  // the lease of one round: PROVIDER_TIMEOUT_MS x providers (1) + a margin of min(2000, max(200, PROVIDER_TIMEOUT_MS))
  const leaseMs = 2000 + 2000
  const doomed = await spawn(env)
  const mobiles = Array.from({ length: 20 }, (_, i) => mobileOf(20_000 + i))
  for (const m of mobiles) await redis.hset(TEST_KEYS.behaviour, m, 'stall')
  const ids = await Promise.all(mobiles.map((m) => enqueueCode(redis, m)))
  await waitFor(async () => (await Promise.all(ids.map((id) => statusOf(redis, id)))).every((s) => s.status === 'sending'), { what: 'all 20 in flight' })
  const leasedAt = new Map(await Promise.all(ids.map(async (id) => [id, Number((await statusOf(redis, id)).sendingAt)] as const)))
  await redis.del(TEST_KEYS.behaviour) // the provider works again, for whoever tries next
  doomed.child.kill('SIGKILL')
  await doomed.exited
  running.splice(running.indexOf(doomed), 1)
  const survivor = await spawn(env)
  await waitFor(async () => (await redis.llen(TEST_KEYS.deliveries)) >= 20, { timeout: 20_000, what: '20 deliveries by the survivor' })
  await waitFor(async () => (await pending()) === 0, { what: 'an empty pending list' })
  const deliveries = await deliveriesIn(redis)
  t.equal(deliveries.length, 20, 'no more than 20 deliveries')
  for (const id of ids) {
    const mine = deliveries.filter((d) => d.requestId === id)
    t.equal(mine.length, 1, `${id} delivered exactly once`)
    t.equal(mine[0]?.pid, survivor.child.pid, 'by the survivor')
    // Not while the dead sender's call could still be in flight: the lease must have run out first.
    t.ok(mine[0]!.t >= leasedAt.get(id)! + leaseMs - 50, `${id} re-sent ${mine[0]!.t - leasedAt.get(id)!} ms after the first lease (lease ${leaseMs} ms)`)
    t.equal((await statusOf(redis, id)).status, 'sent')
  }
  const calls = await callsIn(redis)
  t.equal(calls.filter((c) => c.pid === survivor.child.pid).length, 20, 'the survivor called the provider once per job')
  t.ok(survivor.lines.some((l) => l.msg === 'took over stale pending entries'))
})

t.test('SIGTERM with work in flight: exit 0, the in-flight calls complete, nothing lost', async (t) => {
  const sender = await spawn({ SHUTDOWN_TIMEOUT_MS: 10_000 })
  const mobiles = Array.from({ length: 10 }, (_, i) => mobileOf(30_000 + i))
  for (const m of mobiles) await redis.hset(TEST_KEYS.behaviour, m, 'slow:800')
  const ids = await Promise.all(mobiles.map((m) => enqueueCode(redis, m)))
  await waitFor(async () => (await Promise.all(ids.map((id) => statusOf(redis, id)))).every((s) => s.status === 'sending'), { what: 'all 10 in flight' })
  running.splice(running.indexOf(sender), 1)
  t.equal(await sender.kill('SIGTERM'), 0, 'exit 0')
  const deliveries = await deliveriesIn(redis)
  t.equal(deliveries.length, 10, 'every in-flight call completed')
  for (const id of ids) t.equal((await statusOf(redis, id)).status, 'sent')
  t.equal(await pending(), 0, 'nothing left pending')
  t.ok(sender.lines.some((l) => l.msg === 'sender exited'))
})

t.test('SIGTERM with a stalled call: exit 0 at SHUTDOWN_TIMEOUT_MS, before the call\'s own deadline, its lease left to expire', async (t) => {
  // The call stalls until its 4 s provider deadline, which would turn it to retrying: still 'sending' after the
  // exit shows the process left at its 1.5 s shutdown deadline rather than waiting the call out.
  const sender = await spawn({ SHUTDOWN_TIMEOUT_MS: 1500, PROVIDER_TIMEOUT_MS: 4000, SENDER_BLOCK_MS: 1000 })
  await redis.hset(TEST_KEYS.behaviour, mobileOf(31_000), 'stall')
  const id = await enqueueCode(redis, mobileOf(31_000))
  await waitFor(async () => (await statusOf(redis, id)).status === 'sending', { what: 'the stalled call' })
  running.splice(running.indexOf(sender), 1)
  t.equal(await sender.kill('SIGTERM'), 0, 'exit 0')
  t.equal((await statusOf(redis, id)).status, 'sending', 'not handed back: the call may still reach the phone')
  t.ok(sender.lines.some((l) => typeof l.msg === 'string' && l.msg.includes('shutdown deadline with sends in flight')), 'it waited for the call up to the deadline')
})

t.test('/healthz and /metrics on METRICS_PORT: sends counted, stream gauges present', async (t) => {
  const port = await freePort()
  await spawn({ METRICS_PORT: port })
  const ids = await enqueueMany(5, 60_000)
  await waitFor(async () => (await redis.llen(TEST_KEYS.deliveries)) === 5, { what: '5 deliveries' })
  await waitFor(async () => (await pending()) === 0)
  const health = await fetch(`http://127.0.0.1:${port}/healthz`)
  t.equal(health.status, 200)
  const res = await fetch(`http://127.0.0.1:${port}/metrics`)
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /text\/plain/)
  const text = await res.text()
  t.match(text, /sms_sends_total\{provider="test",outcome="accepted"\} 5/)
  t.match(text, /sms_enqueue_to_accepted_seconds_count 5/)
  t.match(text, /sms_stream_length\{partition="0"\} \d+/)
  t.match(text, /sms_stream_pending\{partition="0"\} 0/)
  t.match(text, /sms_stream_lag\{partition="0"\} 0/)
  t.equal((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404)
  for (const id of ids) t.equal((await statusOf(redis, id)).status, 'sent')
})

t.test('SENDER_RECEIPT_POLL_SECONDS with Tencent: the sender pulls receipts, counts them and times enqueue-to-delivered', async (t) => {
  const fake = await startFakeTencent()
  t.teardown(() => fake.stop())
  const port = await freePort()
  const sender = await spawn({
    SENDER_TEST_PROVIDER_MODULE: '', SMS_PROVIDER: 'tencent', ...fakeProviderEnv({ tencent: fake.endpoint }),
    SENDER_RECEIPT_POLL_SECONDS: 1, METRICS_PORT: port,
  })
  t.ok(await sender.waitForLine((l) => l.msg === 'receipt poller started'))
  const id = await enqueueCode(redis, '+8613812345678')
  await waitFor(async () => (await statusOf(redis, id)).status === 'sent', { what: 'sent through the fake Tencent' })
  const serial = fake.accepted[0]!.serialNo
  fake.receipts.push({ SerialNo: serial, PhoneNumber: '+8613812345678', ReportStatus: 'SUCCESS', Description: 'ok', UserReceiveTime: Math.floor(Date.now() / 1000) + 2 })
  await waitFor(async () => (await statusOf(redis, id)).status === 'delivered', { timeout: 5000, what: 'the pulled receipt applied' })
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  t.match(text, /sms_receipts_total\{provider="tencent",result="applied",state="delivered"\} 1/)
  t.match(text, /sms_enqueue_to_delivered_seconds_count\{provider="tencent"\} 1/)
  running.splice(running.indexOf(sender), 1)
  t.equal(await sender.kill('SIGTERM'), 0, 'poller closed, exit 0')
})

t.test('Redis restarted empty under a running sender: it recreates the group and drains new jobs', async (t) => {
  const sender = await spawn({ SENDER_BLOCK_MS: 100 })
  await enqueueMany(5, 40_000)
  await waitFor(async () => (await redis.llen(TEST_KEYS.deliveries)) === 5, { what: '5 deliveries' })
  await server.kill()
  await new Promise((r) => setTimeout(r, 300))
  await server.start()
  const ids = await enqueueMany(5, 50_000)
  await waitFor(async () => (await redis.llen(TEST_KEYS.deliveries).catch(() => 0)) === 5, { timeout: 15_000, what: '5 deliveries after the restart' })
  for (const id of ids) t.equal((await statusOf(redis, id)).status, 'sent')
  t.ok(sender.lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('consumer group missing')), 'the group was recreated')
})

t.test('a bad configuration fails startup with one clear line', async (t) => {
  const { runNode } = await import('@sms-verify/testing')
  const proc = runNode('apps/sender/dist/main.js', { REDIS_URL: server.url, SENDER_CONCURRENCY: 'lots' })
  t.equal(await proc.exited, 1)
  const out = proc.output().trim().split('\n')
  t.equal(out.length, 1)
  t.match(out[0], /SENDER_CONCURRENCY/)
})
