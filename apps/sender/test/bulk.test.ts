import { GROUP, createRedis, keys, partition, type Config } from '@sms-verify/shared'
import {
  fakeProviderEnv, runNode, startFakeTencent, startRedis, startSenderProcess, waitFor, type FakeTencent, type RunningProcess,
} from '@sms-verify/testing'
import { pino } from 'pino'
import t, { type Test } from 'tap'
import { createTencentProvider } from '../src/providers/tencent.js'
import { Sender } from '../src/sender.js'
import { enqueueBulk, statusOf, testConfig } from './helpers/jobs.js'

// Bulk requests of more than 200 numbers are several jobs. Each job has its own identity, lease
// and completion; the request's record counts what each did. The real Tencent SDK talks to the
// fake Tencent, which must see every number accepted exactly once.
const server = await startRedis()
const plain = server.client()
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })
const p0 = partition(0, 1, false)
const running: RunningProcess[] = []
t.teardown(async () => {
  await Promise.all(running.map((p) => p.kill('SIGKILL')))
  await server.stop()
})
t.beforeEach(async () => { await plain.flushall() })
// A sender process outliving its test would take the next test's entries.
t.afterEach(async () => { await Promise.all(running.splice(0).map((p) => p.kill('SIGKILL'))) })

/** `+86138` + 8 digits, one per index: mainland numbers, so every job is a full 200 but the last. */
const numbers = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `+86138${String(from + i).padStart(8, '0')}`)
const pending = async () => (await plain.xpending(p0.stream, GROUP) as [number])[0]

async function withTencentSender(t: Test, env: Record<string, string | number> = {}) {
  const fake = await startFakeTencent()
  t.teardown(() => fake.stop())
  const config: Config = testConfig({ REDIS_URL: server.url, SMS_PROVIDER: 'tencent', SEND_BACKOFF_BASE_MS: 10, SEND_BACKOFF_CAP_MS: 50,
    ...fakeProviderEnv({ tencent: fake.endpoint }), ...env })
  const redis = createRedis(config)
  const sender = new Sender({ config, redis, provider: createTencentProvider(config), logger })
  t.teardown(async () => { await sender.close(); redis.disconnect() })
  return { fake, sender }
}

/** Every number accepted by the fake exactly once, and the record counting all of them. */
async function checkAllOnce(t: Test, fake: FakeTencent, requestId: string, mobiles: string[]) {
  const seen = new Map<string, number>()
  for (const a of fake.accepted) seen.set(a.mobile, (seen.get(a.mobile) ?? 0) + 1)
  t.equal(seen.size, mobiles.length, `the carrier got all ${mobiles.length} numbers (it got ${seen.size})`)
  t.same([...seen.values()].filter((n) => n > 1), [], 'none of them twice')
  t.same(mobiles.filter((m) => !seen.has(m)), [], 'none missing')
  const st = await statusOf(plain, requestId)
  t.match(st, { status: 'sent', recipients: String(mobiles.length), sent: String(mobiles.length), failed: '0' }, 'the record counts every job')
  t.equal(Object.keys(JSON.parse(st.results ?? '{}')).length, mobiles.length, 'a result per number')
  t.equal(await pending(), 0, 'nothing left pending')
}

for (const n of [450, 1000]) {
  t.test(`${n} numbers through Tencent: ${Math.ceil(n / 200)} jobs, each sent, the record reads sent ${n} of ${n}`, async (t) => {
    const { fake, sender } = await withTencentSender(t)
    const mobiles = numbers(n)
    const id = await enqueueBulk(plain, mobiles)
    await waitFor(async () => { await sender.tick(); return (await statusOf(plain, id)).status === 'sent' }, { timeout: 20_000, what: 'the request sent' })
    t.equal(fake.requests.filter((r) => r.action === 'SendSms').length, Math.ceil(n / 200), 'one SendSms per job')
    await checkAllOnce(t, fake, id, mobiles)
    for (let j = 0; j < Math.ceil(n / 200); j++) t.equal(await plain.get(keys(p0).lease(`${id}:${j}`)), 'done', `job ${j} has its own done marker`)
  })
}

t.test('450 numbers, the second job\'s call failing transiently once: retried alone and delivered; the request is sent only when it is', async (t) => {
  const { fake, sender } = await withTencentSender(t)
  const mobiles = numbers(450, 10_000)
  fake.behaviour.set(mobiles[250]!, { apiError: 'RequestLimitExceeded', message: 'throttled' })
  const id = await enqueueBulk(plain, mobiles)
  await sender.tick()
  const between = await statusOf(plain, id)
  t.equal(between.status, 'retrying', 'not sent while a job waits for its retry')
  t.equal(between.sent, '250', 'the two jobs that went through are counted')
  t.equal(fake.accepted.length, 250)
  fake.behaviour.clear()
  await waitFor(async () => { await sender.tick(); return (await statusOf(plain, id)).status === 'sent' }, { timeout: 20_000, what: 'the retry delivered' })
  await checkAllOnce(t, fake, id, mobiles)
  const st = await statusOf(plain, id)
  t.equal(st.attempts, '2', 'the retried job made two calls; the record shows the most a job made')
  t.equal(fake.requests.filter((r) => r.action === 'SendSms').length, 4, '3 jobs + 1 retry')
})

t.test('a sender process killed mid-call during 1,000 numbers: the survivor sends every remaining number once, nothing lost', async (t) => {
  const fake = await startFakeTencent()
  t.teardown(() => fake.stop())
  const env = {
    REDIS_URL: server.url, SMS_PROVIDER: 'tencent', ...fakeProviderEnv({ tencent: fake.endpoint }),
    PROVIDER_TIMEOUT_MS: '1000', SENDER_CLAIM_IDLE_MS: '200', SENDER_CONCURRENCY: '1',
  }
  const mobiles = numbers(1000, 20_000)
  // The third job's call never answers the first sender: it dies with the call in flight. The
  // fake never accepts that call's numbers, so each number must reach it exactly once afterwards.
  fake.behaviour.set(mobiles[450]!, { stall: true })
  const doomed = await startSenderProcess(env)
  running.push(doomed)
  const id = await enqueueBulk(plain, mobiles)
  await waitFor(() => fake.requests.filter((r) => r.action === 'SendSms').length === 3, { timeout: 15_000, what: 'the third call in flight' })
  t.equal(fake.accepted.length, 400, 'two jobs went through before the crash')
  doomed.child.kill('SIGKILL')
  await doomed.exited
  fake.behaviour.clear()
  const survivor = await startSenderProcess(env)
  running.push(survivor)
  await waitFor(async () => (await statusOf(plain, id)).status === 'sent' && (await pending()) === 0, { timeout: 30_000, what: 'the survivor to finish' })
  await checkAllOnce(t, fake, id, mobiles)
  t.ok(survivor.lines.some((l) => l.msg === 'took over stale pending entries'), 'the survivor claimed the dead sender\'s entries')
})

t.test('a bulk job that failed for good and is replayed by an operator is sent again, and its request reads sent', async (t) => {
  const { fake, sender } = await withTencentSender(t)
  const mobiles = numbers(250, 30_000)
  for (const m of mobiles.slice(200)) fake.behaviour.set(m, { code: 'InvalidParameterValue.IncorrectPhoneNumber' })
  const id = await enqueueBulk(plain, mobiles)
  await sender.tick()
  const before = await statusOf(plain, id)
  t.match(before, { status: 'sent', sent: '200', failed: '50' }, 'one job sent, the other failed for good')
  t.equal(await plain.xlen(p0.deadStream), 1, 'the failed job is a dead letter')
  fake.behaviour.clear()
  const cli = runNode('apps/cli/dist/main.js', { REDIS_URL: server.url }, ['dead', 'replay', id])
  t.equal(await cli.exited, 0, `replayed: ${cli.output()}`)
  await waitFor(async () => { await sender.tick(); return (await statusOf(plain, id)).sent === '250' }, { timeout: 10_000, what: 'the replayed job sent' })
  await checkAllOnce(t, fake, id, mobiles)
})
