// Leases, claims, shutdown and stale copies: what keeps a job from being lost or sent twice
// when replicas crash, stall, share a name or stop, and cluster reads. One job's ends: sender.test.ts.
import { GROUP, createRedis, keys, partition, partitionIndexOf } from '@sms-verify/shared'
import { makeTestProvider, startRedis, startRedisCluster, TEST_KEYS, waitFor } from '@sms-verify/testing'
import type { Redis } from 'ioredis'
import t from 'tap'
import { SenderMetrics } from '../src/metrics.js'
import type { Provider } from '../src/provider.js'
import { Sender } from '../src/sender.js'
import { recordingLogger, senderHarness } from './helpers/sender-harness.js'
import { enqueueBulk, enqueueCode, mobileOf, statusOf, testConfig } from './helpers/jobs.js'

const { server, plain, logger, p0, withSender, drainUntil, deliveries, callsOf, idleOf, deadFields } = await senderHarness(t)

t.test('a claim pass never hands this process an entry it is still sending', async (t) => {
  await withSender({ SENDER_CLAIM_IDLE_MS: 50, PROVIDER_TIMEOUT_MS: 2000 }, async (sender) => {
    await plain.hset(TEST_KEYS.behaviour, mobileOf(300), 'slow:500')
    const id = await enqueueCode(plain, mobileOf(300))
    await sender.start()
    await waitFor(async () => (await statusOf(plain, id)).status === 'sent', { what: 'the slow send to end' })
  })
  // after close(), which awaits every call in flight
  t.equal((await callsOf()).length, 1, 'one provider call, though the entry was idle past the claim time while in flight')
  t.equal((await deliveries()).length, 1)
})

t.test('lease tokens are unique per handling: a second process with the same consumer name gets busy, not the lease', async (t) => {
  await withSender({ SENDER_CLAIM_IDLE_MS: 50, PROVIDER_TIMEOUT_MS: 2000 }, async (first) => {
    await plain.hset(TEST_KEYS.behaviour, mobileOf(301), 'slow:700')
    const id = await enqueueCode(plain, mobileOf(301))
    const ticking = first.tick()
    await waitFor(async () => (await statusOf(plain, id)).status === 'sending', { what: 'the first handling to send' })
    await withSender({ SENDER_CLAIM_IDLE_MS: 50, PROVIDER_TIMEOUT_MS: 2000 }, async (twin) => {
      await waitFor(async () => (await idleOf((await plain.xrange(p0.stream, '-', '+'))[0]![0])) > 60, { what: 'the entry to be claimable' })
      await twin.tick()
    }, { consumer: 'twin' })
    await ticking
    t.equal((await callsOf(id)).length, 1, 'the twin did not call the provider a second time')
    t.equal((await statusOf(plain, id)).status, 'sent')
  }, { consumer: 'twin' })
})

t.test('a consumer deleted while its call runs (XACK 0): the transient failure is still retried, not stuck in sending', async (t) => {
  await withSender({}, async (sender) => {
    await plain.hset(TEST_KEYS.behaviour, mobileOf(310), 'slowfail:300')
    const id = await enqueueCode(plain, mobileOf(310))
    const ticking = sender.tick()
    await waitFor(async () => (await statusOf(plain, id)).status === 'sending', { what: 'the call to start' })
    await plain.xgroup('DELCONSUMER', p0.stream, GROUP, sender.consumer)
    await ticking
    await plain.hset(TEST_KEYS.behaviour, mobileOf(310), 'ok')
    await drainUntil(sender, async () => (await statusOf(plain, id)).status === 'sent')
    t.equal((await deliveries()).length, 1)
  })
})

t.test('gone consumers are removed only when idle long enough and holding nothing', async (t) => {
  await withSender({}, async (sender) => {
    await enqueueCode(plain, mobileOf(311))
    await plain.xgroup('CREATE', p0.stream, GROUP, '0', 'MKSTREAM')
    await plain.xreadgroup('GROUP', GROUP, 'holder', 'COUNT', 1, 'STREAMS', p0.stream, '>')
    await plain.xgroup('CREATECONSUMER', p0.stream, GROUP, 'empty')
    t.same(await sender.forgetConsumers(60_000), [], 'nobody idle for a minute')
    t.same(await sender.forgetConsumers(0), ['empty'], 'the one with a pending entry stays')
    t.same((await plain.call('XINFO', 'CONSUMERS', p0.stream, GROUP) as unknown[]).length, 1)
  })
})

t.test('acked entries are trimmed while the sender runs, with no new traffic', async (t) => {
  await withSender({ SENDER_CONCURRENCY: 64 }, async (sender) => {
    for (let i = 0; i < 500; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => enqueueCode(plain, mobileOf(3000 + i + j))))
    await sender.start()
    await waitFor(async () => (await plain.llen(TEST_KEYS.deliveries)) === 500, { what: '500 deliveries' })
    // nothing is queued after the drain: only the sender's periodic trimming can shorten the stream
    await waitFor(async () => (await plain.xlen(p0.stream)) < 150, { what: 'the stream to be trimmed' })
    t.ok((await plain.xlen(p0.stream)) < 150, 'the acked entries are gone from the stream')
  })
})

t.test('a dead replica\'s entries are taken over without waiting behind the backlog', async (t) => {
  await plain.xgroup('CREATE', p0.stream, GROUP, '0', 'MKSTREAM')
  const orphans: string[] = []
  for (let i = 0; i < 5; i++) orphans.push(await enqueueCode(plain, mobileOf(400 + i)))
  await plain.xreadgroup('GROUP', GROUP, 'dead-replica', 'COUNT', 5, 'STREAMS', p0.stream, '>')
  const backlog = Array.from({ length: 200 }, (_, i) => mobileOf(500 + i))
  for (const m of backlog) await plain.hset(TEST_KEYS.behaviour, m, 'slow:20')
  await Promise.all(backlog.map((m) => enqueueCode(plain, m)))
  await withSender({ SENDER_CONCURRENCY: 4, SENDER_CLAIM_IDLE_MS: 100 }, async (sender) => {
    await sender.start()
    await waitFor(async () => {
      const ds = await deliveries()
      return orphans.every((id) => ds.some((d) => d.requestId === id))
    }, { timeout: 10_000, what: 'the orphans to be delivered' })
    const backlogDone = (await deliveries()).length - 5
    t.ok(backlogDone < 120, `orphans delivered after ${backlogDone} of 200 backlog jobs`)
  })
})

t.test('after a provider TIMEOUT the lease is kept and the retry is due no earlier than its end', async (t) => {
  await withSender({ PROVIDER_TIMEOUT_MS: 100 }, async (sender, config) => {
    await plain.hset(TEST_KEYS.behaviour, mobileOf(320), 'stall:1')
    const id = await enqueueCode(plain, mobileOf(320))
    await sender.tick()
    const st = await statusOf(plain, id)
    t.equal(st.status, 'retrying')
    const lease = await plain.get(keys(p0).lease(id))
    t.ok(lease && lease !== 'done', 'the lease of the timed-out call is still held')
    const leaseMs = config.PROVIDER_TIMEOUT_MS + 200
    t.ok(Number(st.retryAt) >= Number(st.sendingAt) + leaseMs - 5, `retry due ${Number(st.retryAt) - Number(st.sendingAt)} ms after the lease began (lease ${leaseMs} ms)`)
    await drainUntil(sender, async () => (await statusOf(plain, id)).status === 'sent')
    t.equal(await plain.hget(TEST_KEYS.callCount, id), '2', 'two calls: the stalled one and the retry')
    const [accepted] = await callsOf(id) // a stalled call cut off by its deadline records nothing
    t.ok(accepted!.t >= Number(st.sendingAt) + leaseMs - 5, 'the second call came after the lease ended')
  })
})

t.test('close() awaits in-flight calls and hands unstarted entries back without waiting for its deadline', async (t) => {
  await plain.xgroup('CREATE', p0.stream, GROUP, '0', 'MKSTREAM')
  const orphan = await enqueueCode(plain, mobileOf(330))
  await plain.xreadgroup('GROUP', GROUP, 'dead-replica', 'COUNT', 1, 'STREAMS', p0.stream, '>')
  await plain.hset(TEST_KEYS.behaviour, mobileOf(331), 'slow:600')
  const slow = await enqueueCode(plain, mobileOf(331))
  const { lines, logger } = recordingLogger()
  const SHUTDOWN_TIMEOUT_MS = 30_000
  await withSender({ SENDER_CONCURRENCY: 1, SENDER_CLAIM_IDLE_MS: 50, SHUTDOWN_TIMEOUT_MS }, async (sender) => {
    await sender.start()
    await waitFor(async () => (await statusOf(plain, slow)).status === 'sending', { what: 'the slow call' })
    // the window (1) is full; the claim share still takes the orphan into the buffer
    await waitFor(async () => (await plain.xpending(p0.stream, GROUP, '-', '+', 10, sender.consumer) as unknown[]).length === 2, { what: 'the orphan claimed' })
    let deadline: NodeJS.Timeout | undefined
    const first = await Promise.race([
      sender.close().then(() => 'closed'),
      new Promise((resolve) => { deadline = setTimeout(resolve, SHUTDOWN_TIMEOUT_MS, 'the shutdown deadline') }),
    ])
    clearTimeout(deadline)
    t.equal(first, 'closed', 'close() returned before its deadline')
    t.notOk(lines.some((l) => /deadline/.test(l.msg)), 'no step waited for the deadline')
    t.equal((await statusOf(plain, slow)).status, 'sent', 'the call in flight was awaited')
    t.equal((await callsOf(orphan)).length, 0, 'the unstarted entry was not sent')
    t.equal(await plain.exists(keys(p0).lease(orphan)), 0, 'its lease, taken ahead of a free slot, was given back')
    t.match(await statusOf(plain, orphan), { status: 'queued', attempts: '0' }, 'and its record put back as before the lease')
    t.ok(await idleOf((await plain.xrange(p0.stream, '-', '+')).find(([, f]) => f.includes(orphan))![0]) > 1e9, 'handed back with a huge idle time')
  }, { logger })
  await withSender({ SENDER_CLAIM_IDLE_MS: 30_000 }, async (peer) => {
    await peer.tick()
    t.equal((await statusOf(plain, orphan)).status, 'sent', 'a peer took it over at once, without its 30 s claim idle time')
  })
})

t.test('a job leased ahead that waits for a slot longer than its lease can spare is renewed before its call', async (t) => {
  // PROVIDER_TIMEOUT_MS 400: the lease is 800 ms (one call plus a 400 ms margin); a ready job older than 100 ms is renewed
  await plain.hset(TEST_KEYS.behaviour, mobileOf(390), 'slow:300', mobileOf(391), 'slow:150')
  const first = await enqueueCode(plain, mobileOf(390))
  const second = await enqueueCode(plain, mobileOf(391))
  await withSender({ SENDER_CONCURRENCY: 1, PROVIDER_TIMEOUT_MS: 400 }, async (sender) => {
    await sender.start()
    await waitFor(async () => (await statusOf(plain, first)).status === 'sent', { interval: 5, what: 'the first call to end' })
    const left = await plain.pttl(keys(p0).lease(second))
    t.ok(left > 650, `the second job's lease was renewed when its call started (${left} ms left of 800, after waiting about 300)`)
    await waitFor(async () => (await statusOf(plain, second)).status === 'sent', { what: 'the second call' })
    t.equal((await statusOf(plain, second)).attempts, '1', 'the renewal counted no second attempt')
    t.equal((await callsOf(second)).length, 1)
  })
})

t.test('close() keeps one deadline for a blocked read and a stalled call, ending before the call\'s own deadline', async (t) => {
  // The read blocks for 10 s and the call stalls until its 1.8 s provider deadline: close() must cut off the
  // read at its 1.2 s deadline and leave the call to its lease. Were each step given a deadline of its own
  // (1.1 s for the read, then 1.2 s for the call), the provider's deadline would end the call first.
  await plain.hset(TEST_KEYS.behaviour, mobileOf(332), 'stall')
  const id = await enqueueCode(plain, mobileOf(332))
  const { lines, logger } = recordingLogger()
  await withSender({ SHUTDOWN_TIMEOUT_MS: 1200, SENDER_BLOCK_MS: 10_000, PROVIDER_TIMEOUT_MS: 1800 }, async (sender) => {
    await sender.start()
    await waitFor(async () => (await statusOf(plain, id)).status === 'sending', { what: 'the stalled call' })
    await waitFor(async () => /flags=b .*cmd=xreadgroup/.test(await plain.client('LIST') as string), { what: 'the next read blocked' })
    await sender.close()
    t.equal((await statusOf(plain, id)).status, 'sending', 'closed while the call was still in flight, before its provider deadline')
    t.equal(sender.inFlight, 1, 'the stalled call was left running, not awaited')
    const warnings = lines.filter((l) => l.level === 40).map((l) => l.msg)
    t.ok(warnings.includes('sender close: a blocked read outlived the deadline; cut off'), 'the blocked read was cut off at the deadline')
    t.ok(warnings.some((m) => m.startsWith('sender close: shutdown deadline with sends in flight')), 'the stalled call was left at the same deadline')
  }, { logger })
})

t.test('provider calls lost in crashes count: after SEND_MAX_ATTEMPTS crashed rounds the job is dead-lettered', async (t) => {
  const env = { SEND_MAX_ATTEMPTS: 3, SENDER_CLAIM_IDLE_MS: 50, PROVIDER_TIMEOUT_MS: 100 }
  const id = await enqueueCode(plain, mobileOf(340))
  let crashes = 0
  for (let round = 1; round <= 3; round++) {
    const config = testConfig({ REDIS_URL: server.url, ...env })
    const redis = createRedis(config)
    // Dies mid-call: its connection goes, so nothing it does afterwards reaches Redis.
    const crashing: Provider = { name: 'crash', send: () => { crashes++; redis.disconnect(); return new Promise(() => undefined) }, sendBulk: async () => [] }
    const doomed = new Sender({ config, redis, provider: crashing, logger })
    void doomed.tick().catch(() => undefined)
    await waitFor(() => crashes === round, { what: `crash ${round}` })
    await waitFor(async () => (await plain.exists(keys(p0).lease(id))) === 0, { what: 'the lease to expire' })
  }
  await withSender(env, async (sender) => {
    await waitFor(async () => (await idleOf((await plain.xrange(p0.stream, '-', '+'))[0]![0])) > 60)
    await sender.tick()
    const st = await statusOf(plain, id)
    t.equal(st.status, 'failed')
    t.equal((await callsOf(id)).length, 0, 'no fourth call')
    t.match((await deadFields())[0], { reason: 'attempts_exhausted', attempts: '3' })
  })
})

t.test('a group re-created from 0 re-reads old originals: a stale copy is acked, not sent', async (t) => {
  await withSender({}, async (sender) => {
    await plain.hset(TEST_KEYS.behaviour, mobileOf(350), 'transient:1')
    const id = await enqueueCode(plain, mobileOf(350))
    await sender.tick()
    t.equal((await statusOf(plain, id)).status, 'retrying')
    const [member] = await plain.zrange(keys(p0).retries, 0, '-1')
    await plain.zadd(keys(p0).retries, Date.now() + 60_000, member!) // not due yet
    await plain.xgroup('DESTROY', p0.stream, GROUP)
    await plain.xgroup('CREATE', p0.stream, GROUP, '0')
    await sender.tick()
    t.equal((await callsOf(id)).length, 1, 'the stale original was not sent again')
    t.equal((await statusOf(plain, id)).status, 'retrying')
    t.equal((await plain.xpending(p0.stream, GROUP) as [number])[0], 0, 'and it was acked')
    await plain.zadd(keys(p0).retries, 0, member!)
    await drainUntil(sender, async () => (await statusOf(plain, id)).status === 'sent')
    t.equal((await callsOf(id)).length, 2)
    t.equal((await deliveries()).length, 1)
  })
})

t.test('an expired copy never moves a final status backwards', async (t) => {
  await withSender({}, async (sender) => {
    const id = await enqueueCode(plain, mobileOf(360), { expiresAt: Date.now() - 1 })
    await plain.hset(keys(p0).request(id), 'status', 'delivered')
    await sender.tick()
    t.equal((await statusOf(plain, id)).status, 'delivered')
    t.equal((await plain.xpending(p0.stream, GROUP) as [number])[0], 0)
  })
})

t.test('bulk: an all-failed job is dead-lettered with its numbers; no serials are stored for bulk sends', async (t) => {
  await withSender({}, async (sender) => {
    const failing = [mobileOf(370), mobileOf(371)]
    await plain.hset(TEST_KEYS.behaviour, failing[0]!, 'permanent', failing[1]!, 'permanent')
    const failed = await enqueueBulk(plain, failing)
    const ok = await enqueueBulk(plain, [mobileOf(372)])
    await sender.tick()
    const st = await statusOf(plain, failed)
    t.equal(st.status, 'failed')
    t.equal(st.failed, '2')
    const dead = await deadFields()
    t.equal(dead.length, 1)
    t.match(dead[0], { requestId: failed, reason: 'permanent', kind: 'bulk' })
    t.same(dead[0]!.mobiles!.split(',').sort(), [...failing].sort())
    t.equal((await statusOf(plain, ok)).status, 'sent')
    t.same(await plain.keys(keys(p0).serial('*', '*')), [], 'no serial mapping for bulk sends')
  })
})

t.test('bulk: a Redis outage right after the provider accepted is waited out; the batch is recorded, never sent again', async (t) => {
  // appendonly: the stream, its pending entry and the lease survive the restart, as on a real deployment
  const durable = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] })
  t.teardown(() => durable.stop())
  const admin = durable.client()
  let calls = 0
  const provider: Provider = {
    name: 'test',
    send: () => Promise.reject(new Error('not used')),
    async sendBulk(message) {
      calls++
      await durable.kill()
      setTimeout(() => void durable.start(), 300)
      return message.mobiles.map((_, i) => ({ kind: 'accepted' as const, messageId: `m${calls}-${i}` }))
    },
  }
  const config = testConfig({ REDIS_URL: durable.url })
  // no retries inside the client: the finish call fails outright while the server is down
  const redis = createRedis(config, { maxRetriesPerRequest: 0 })
  redis.on('error', () => undefined)
  const sender = new Sender({ config, redis, provider, logger })
  t.teardown(async () => { await sender.close(); redis.disconnect() })
  const id = await enqueueBulk(admin, [mobileOf(380), mobileOf(381)])
  await sender.tick()
  const st = await statusOf(admin, id)
  t.equal(st.status, 'sent', 'the completion landed once Redis was back')
  t.equal(st.sent, '2')
  t.equal((await admin.xpending(p0.stream, GROUP))[0], 0, 'the entry is acked')
  await sender.tick()
  t.equal(calls, 1, 'the batch went to the provider once')
})

t.test('stream lag is absent (not 0) when XINFO cannot tell', async (t) => {
  await withSender({}, async (sender) => {
    await plain.xgroup('CREATE', p0.stream, GROUP, '0', 'MKSTREAM')
    await enqueueCode(plain, mobileOf(380))
    await enqueueCode(plain, mobileOf(381))
    const [, second] = await plain.xrange(p0.stream, '-', '+')
    await plain.xdel(p0.stream, second![0])
    const [sample] = await sender.sampleStreams()
    t.equal(sample!.lag, null)
    const metrics = new SenderMetrics()
    metrics.setSampler(() => sender.sampleStreams())
    const text = await metrics.registry.metrics()
    t.match(text, /sms_stream_length\{partition="0"\} 1/)
    t.notMatch(text, /sms_stream_lag\{/)
  })
})


t.test('cluster: every partition has its own blocking read, so a job on any of 16 partitions is picked up without waiting out a BLOCK', async (t) => {
  const cluster = await startRedisCluster()
  t.teardown(() => cluster.stop())
  // A read that has to wait out its BLOCK before another partition's job is seen would take 30 s,
  // three times each job's 10 s wait below; close() cuts the blocked reads off at its 1 s deadline.
  const config = testConfig({ REDIS_CLUSTER_NODES: cluster.seeds, SENDER_BLOCK_MS: 30_000, SHUTDOWN_TIMEOUT_MS: 1000 })
  const redis = createRedis(config)
  const sender = new Sender({ config, redis, provider: makeTestProvider({ redis: plain }), logger })
  try {
    await sender.start()
    const masters = await cluster.masters()
    const blocked = async () => {
      let n = 0
      for (const port of masters) n += Number(/blocked_clients:(\d+)/.exec(await cluster.client(port).info('clients'))?.[1] ?? 0)
      return n
    }
    await waitFor(async () => (await blocked()) === 16, { what: '16 blocked reads, one per partition' })
    const ids: string[] = []
    for (let p = 0; p < 16; p++) {
      let i = 0
      while (partitionIndexOf(mobileOf(7000 + i), 16) !== p) i++
      // let every blocking read settle into its BLOCK first
      await new Promise<void>((resolve) => setImmediate(resolve))
      ids.push(await enqueueCode(redis as Redis, mobileOf(7000 + i), { partitions: 16 }))
      await waitFor(async () => (await plain.llen(TEST_KEYS.deliveries)) === p + 1, { timeout: 10_000, interval: 5, what: `partition ${p}'s job` })
    }
    t.equal(await plain.llen(TEST_KEYS.deliveries), 16, 'each partition\'s job was picked up by its own blocked read')
    // completions (batched lease and finish scripts) land on each partition's slot
    await waitFor(async () => (await Promise.all(ids.map((id) => redis.hget(keys(partition(Number(id.split('-')[0]), 16, true)).request(id), 'status'))))
      .every((st) => st === 'sent'), { what: 'every status sent' })
    const pendingCounts = await Promise.all(Array.from({ length: 16 }, (_, p) => redis.xpending(partition(p, 16, true).stream, GROUP) as Promise<[number]>))
    t.same(pendingCounts.map((x) => Number(x[0])), Array(16).fill(0), 'nothing pending on any partition')
    const samples = await sender.sampleStreams()
    t.same(samples.map((x) => x.pending), Array(16).fill(0), 'the metrics sampler reads every partition')
  } finally {
    await sender.close()
    redis.disconnect()
  }
})
