// One job through an in-process Sender: each way a send ends (sent, expired, dead-lettered,
// retried, stale), partitions, trimming and bulk outcomes. Recovery: sender-recovery.test.ts.
import { GROUP, keys, numberFields, recordOf, sealKeyFrom, sentBucketOf } from '@sms-verify/shared'
import { makeTestProvider, TEST_KEYS, waitFor } from '@sms-verify/testing'
import t from 'tap'
import type { Provider } from '../src/provider.js'
import { recordingLogger, senderHarness } from './helpers/sender-harness.js'
import { enqueueBulk, enqueueCode, mobileOf, statusOf } from './helpers/jobs.js'

const { plain, logger, p0, withSender, drainUntil, deliveries } = await senderHarness(t)

t.test('a job is sent once, acked, and its status reads sent with provider and message id', async (t) => {
  await withSender({}, async (sender) => {
    const id = await enqueueCode(plain, mobileOf(1))
    t.equal(await sender.tick(), 1)
    const st = await statusOf(plain, id)
    t.equal(st.status, 'sent')
    t.equal(st.attempts, '1')
    t.equal(st.provider, 'test')
    t.ok(st.messageId)
    t.ok(st.sentAt)
    t.equal(await plain.get(keys(p0).lease(id)), 'done', 'done marker')
    const bucket = sentBucketOf(Date.now())
    const counted = await plain.mget(keys(p0).sentCounter(bucket), keys(p0).sentCounter(bucket - 1))
    t.equal(counted.reduce((n, c) => n + Number(c ?? 0), 0), 1, 'counted for pnpm sms stats')
    const pending = await plain.xpending(p0.stream, GROUP) as [number]
    t.equal(pending[0], 0, 'nothing pending')
    t.equal((await deliveries()).length, 1)
  })
})

t.test('the message id → request mapping is kept only for a provider that reports receipts', async (t) => {
  const withReceipts: Provider = { ...makeTestProvider({ redis: plain, name: 'receipts' }), receipts: true }
  const id = await enqueueCode(plain, mobileOf(2))
  await withSender({}, (sender) => sender.tick(), { provider: withReceipts })
  const st = await statusOf(plain, id)
  t.equal(await plain.get(keys(p0).serial('receipts', st.messageId!)), id, 'mapped for its receipt')
  const other = await enqueueCode(plain, mobileOf(3))
  await withSender({}, (sender) => sender.tick())
  t.equal((await statusOf(plain, other)).status, 'sent')
  t.same(await plain.keys(keys(p0).serial('test', '*')), [], 'none for a provider without receipts')
})

t.test('an expired job is acked, reads expired, and is not sent', async (t) => {
  await withSender({}, async (sender) => {
    const id = await enqueueCode(plain, mobileOf(2), { expiresAt: Date.now() - 1 })
    await sender.tick()
    t.equal((await statusOf(plain, id)).status, 'expired')
    t.equal((await deliveries()).length, 0)
    t.equal((await plain.xpending(p0.stream, GROUP) as [number])[0], 0)
    t.equal(await plain.xlen(p0.deadStream), 0, 'not a dead letter')
  })
})

t.test('a permanent failure is dead-lettered with its reason after exactly one call', async (t) => {
  await withSender({}, async (sender) => {
    await plain.hset(TEST_KEYS.behaviour, mobileOf(3), 'permanent')
    const id = await enqueueCode(plain, mobileOf(3))
    await sender.tick()
    const st = await statusOf(plain, id)
    t.equal(st.status, 'failed')
    t.equal(st.error, 'test: invalid number')
    t.equal(await plain.llen(TEST_KEYS.calls), 1, 'one provider call')
    const dead = await plain.xrange(p0.deadStream, '-', '+')
    t.equal(dead.length, 1)
    const f = recordOf<string>(dead[0]![1])
    t.equal(f.reason, 'permanent')
    t.equal(f.requestId, id)
    t.equal(f.mobile, mobileOf(3))
    t.equal(f.attempts, '1')
    t.equal(f.lastError, 'test: invalid number')
    t.equal(f.code, undefined, 'never the plaintext code')
    t.equal(f.purpose, 'register')
  })
})

t.test('transient failures are retried through the retry set, then sent; attempts recorded', async (t) => {
  await withSender({}, async (sender) => {
    await plain.hset(TEST_KEYS.behaviour, mobileOf(4), 'transient:2')
    const id = await enqueueCode(plain, mobileOf(4))
    await drainUntil(sender, async () => (await statusOf(plain, id)).status === 'sent')
    const st = await statusOf(plain, id)
    t.equal(st.attempts, '3')
    t.equal(st.lastError, 'test: provider busy')
    t.equal((await deliveries()).length, 1)
    t.equal(await plain.zcard(keys(p0).retries), 0)
  })
})

t.test('attempts used up: dead-lettered after SEND_MAX_ATTEMPTS calls', async (t) => {
  await withSender({ SEND_MAX_ATTEMPTS: 3 }, async (sender) => {
    await plain.hset(TEST_KEYS.behaviour, mobileOf(5), 'transient')
    const id = await enqueueCode(plain, mobileOf(5))
    await drainUntil(sender, async () => (await statusOf(plain, id)).status === 'failed')
    t.equal(await plain.llen(TEST_KEYS.calls), 3)
    const dead = await plain.xrange(p0.deadStream, '-', '+')
    t.equal(recordOf<string>(dead[0]![1]).reason, 'attempts_exhausted')
  })
})

t.test('carrier_limit: dead letter with that reason, status failed, number blocked until the window ends', async (t) => {
  await withSender({}, async (sender) => {
    await plain.hset(TEST_KEYS.behaviour, mobileOf(6), 'carrier:60000')
    const id = await enqueueCode(plain, mobileOf(6))
    await sender.tick()
    t.equal((await statusOf(plain, id)).status, 'failed')
    const ttl = Number(await plain.hget(keys(p0).number(mobileOf(6) as never), numberFields.carrierUntil)) - Date.now()
    t.ok(ttl > 55_000 && ttl <= 60_000, `block ttl ${ttl}`)
    const dead = await plain.xrange(p0.deadStream, '-', '+')
    t.equal(recordOf<string>(dead[0]![1]).reason, 'carrier_limit')
    t.equal(await plain.llen(TEST_KEYS.calls), 1)
  })
})

t.test('a sealed job is unsealed and delivered; one that cannot be unsealed is dead-lettered', async (t) => {
  const key = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8='
  await withSender({ JOB_SEAL_KEY: key }, async (sender) => {
    const good = await enqueueCode(plain, mobileOf(7), { sealKey: sealKeyFrom(key)! })
    const bad = await enqueueCode(plain, mobileOf(8), { sealKey: Buffer.alloc(32, 7) })
    await sender.tick()
    t.equal((await statusOf(plain, good)).status, 'sent')
    t.equal((await statusOf(plain, bad)).status, 'failed')
    const dead = await plain.xrange(p0.deadStream, '-', '+')
    t.equal(recordOf<string>(dead[0]![1]).reason, 'unseal_failed')
  })
})

t.test('an entry that does not decode is dead-lettered with the reason', async (t) => {
  await withSender({}, async (sender) => {
    await plain.xadd(p0.stream, '*', 'v', '1', 'kind', 'code', 'requestId', '0-x', 'mobile', 'not-a-number')
    await sender.tick()
    const dead = await plain.xrange(p0.deadStream, '-', '+')
    const f = recordOf<string>(dead[0]![1])
    t.equal(f.reason, 'malformed')
    t.match(f.lastError, /invalid job/)
    t.equal((await plain.xpending(p0.stream, GROUP) as [number])[0], 0)
  })
})

t.test('a request that already ended is acked without a second send', async (t) => {
  await withSender({}, async (sender) => {
    const id = await enqueueCode(plain, mobileOf(9))
    await sender.tick()
    // the same job again, as if redelivered
    const [[, fields]] = (await plain.xrange(p0.stream, '-', '+')) as [[string, string[]]]
    await plain.xadd(p0.stream, '*', ...fields)
    await sender.tick()
    t.equal((await deliveries()).length, 1)
    t.equal((await statusOf(plain, id)).status, 'sent')
    t.equal((await plain.xpending(p0.stream, GROUP) as [number])[0], 0)
  })
})

t.test('multiple partitions are all consumed', async (t) => {
  await withSender({ STREAM_PARTITIONS: 4 }, async (sender) => {
    const ids = await Promise.all(Array.from({ length: 40 }, (_, i) => enqueueCode(plain, mobileOf(100 + i), { partitions: 4 })))
    const used = new Set(ids.map((id) => id.split('-')[0]))
    t.equal(used.size, 4, 'jobs spread over 4 partitions')
    await drainUntil(sender, async () => (await deliveries()).length === 40)
    for (const id of ids) t.equal((await statusOf(plain, id, 4)).status, 'sent')
  })
})

t.test('trimming removes acked entries and never a pending one', async (t) => {
  await withSender({ SENDER_CONCURRENCY: 1000, PROVIDER_TIMEOUT_MS: 500 }, async (sender) => {
    for (let i = 0; i < 300; i++) await enqueueCode(plain, mobileOf(1000 + i))
    await sender.tick()
    await plain.hset(TEST_KEYS.behaviour, mobileOf(50), 'stall')
    const stalled = await enqueueCode(plain, mobileOf(50))
    for (let i = 0; i < 300; i++) await enqueueCode(plain, mobileOf(2000 + i))
    // the stalled one stays pending (sending) while the others are acked
    const ticking = sender.tick()
    await waitFor(async () => (await deliveries()).length === 600, { what: '600 deliveries' })
    await sender.trim()
    const len = await plain.xlen(p0.stream)
    t.ok(len < 400, `trimmed from 601 to ${len} (MINID ~ trims whole nodes): the acked entries before the pending one went`)
    const pending = await plain.xpending(p0.stream, GROUP, '-', '+', 10) as Array<[string]>
    t.equal(pending.length, 1)
    t.equal((await plain.xrange(p0.stream, pending[0]![0], pending[0]![0])).length, 1, 'the pending entry is still in the stream')
    t.equal((await statusOf(plain, stalled)).status, 'sending')
    await ticking // the stall ends at PROVIDER_TIMEOUT_MS, then it is retried
    await sender.trim()
    t.ok((await plain.xlen(p0.stream)) <= 301)
  })
})

t.test('bulk: per-number outcomes on the record, only transient numbers retried', async (t) => {
  await withSender({}, async (sender) => {
    const mobiles = [mobileOf(200), mobileOf(201), mobileOf(202)]
    await plain.hset(TEST_KEYS.behaviour, mobiles[1]!, 'transient:1', mobiles[2]!, 'permanent')
    const id = await enqueueBulk(plain, mobiles)
    await drainUntil(sender, async () => (await statusOf(plain, id)).status === 'sent')
    const st = await statusOf(plain, id)
    t.equal(st.sent, '2')
    t.equal(st.failed, '1')
    const results = JSON.parse(st.results!)
    t.equal(results[mobiles[0]!].status, 'sent')
    t.equal(results[mobiles[1]!].status, 'sent')
    t.equal(results[mobiles[2]!].status, 'failed')
    const calls = (await plain.lrange(TEST_KEYS.calls, 0, -1)).map((s) => JSON.parse(s) as { mobile: string })
    t.equal(calls.filter((c) => c.mobile === mobiles[0]).length, 1, 'the sent number is not retried')
    t.equal(calls.filter((c) => c.mobile === mobiles[2]).length, 1, 'the permanent number is not retried')
    t.equal(calls.filter((c) => c.mobile === mobiles[1]).length, 2)
  })
})

t.test('close() is idempotent: every call gets the one shutdown, which runs once and logs no error', async (t) => {
  const { lines, logger } = recordingLogger()
  await withSender({}, async (sender) => {
    await sender.start()
    const first = sender.close()
    t.equal(sender.close(), first, 'a second call while closing returns the same promise')
    await first
    t.equal(sender.close(), first, 'a call after the close returns it too')
  }, { logger })
  t.equal(lines.filter((l) => l.msg === 'sender stopped').length, 1, 'the shutdown ran once')
  t.same(lines.filter((l) => l.level >= 50).map((l) => l.msg), [], 'no cleanup step failed')
})
