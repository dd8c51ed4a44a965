import t from 'tap'
import { GROUP, globalKeys, keys, MINUTE_MS, recordOf, sentBucketOf } from '@sms-verify/shared'
import { startRedis } from '@sms-verify/testing'
import { codeJob, deadFields, partitionsOf, sms, smsProcess, startSms } from './helpers/sms.js'

const SECRET = '987654'

t.test('stats on one partition: length, lag, pending per consumer, dead letters, last minute', async (t) => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = server.client()
  const [p] = partitionsOf(1)
  const k = keys(p!)
  // One job older than a minute, then three fresh ones.
  await redis.xadd(k.jobs, `${Date.now() - 2 * MINUTE_MS}-0`, ...codeJob(p!, '+8613812345678').fields)
  for (let i = 0; i < 3; i++) await redis.xadd(k.jobs, '*', ...codeJob(p!, `+861381234567${i}`).fields)
  await redis.xgroup('CREATE', k.jobs, GROUP, '0')
  await redis.xreadgroup('GROUP', GROUP, 'sender-a', 'COUNT', 2, 'STREAMS', k.jobs, '>')
  await redis.xreadgroup('GROUP', GROUP, 'sender-b', 'COUNT', 1, 'STREAMS', k.jobs, '>')
  await redis.xadd(k.dead, '*', ...deadFields(codeJob(p!, '+8613912345678'), 'permanent', 'bad number'))
  // The senders' counts of accepted sends: 2 now, 1 half a minute ago, 5 two minutes ago (out of the window).
  const bucket = sentBucketOf(Date.now())
  await redis.set(k.sentCounter(bucket), 2)
  await redis.set(k.sentCounter(bucket - 3), 1)
  await redis.set(k.sentCounter(bucket - 12), 5)
  // sender-a paused (every circuit open); a record of a consumer the group does not know is not listed.
  const pause = { consumer: 'sender-a', providers: ['tencent'], since: Date.now() - 1000, resumeAt: Date.now() + 20_000 }
  await redis.set(globalKeys.pausedSender('sender-a'), JSON.stringify(pause), 'PX', 60_000)
  await redis.set(globalKeys.pausedSender('gone'), JSON.stringify({ ...pause, consumer: 'gone' }), 'PX', 60_000)

  const env = { REDIS_URL: server.url }
  // through the real process once: its piped --json answer arrives whole before it exits
  const r = await smsProcess(env, 'stats', '--json')
  t.equal(r.code, 0, r.output)
  const s = r.json as { partitions: Array<Record<string, unknown>>, totals: Record<string, unknown> }
  t.equal(s.partitions.length, 1)
  t.match(s.partitions[0], { stream: 'sms:jobs', deadStream: 'sms:jobs:dead', length: 4, group: true, consumers: 2, pending: 3, lag: 1, dead: 1, lastMinute: 3 })
  t.same(s.partitions[0]!.pendingByConsumer, { 'sender-a': 2, 'sender-b': 1 })
  t.match(s.totals, { length: 4, pending: 3, lag: 1, dead: 1, lastMinute: 3, pendingByConsumer: { 'sender-a': 2, 'sender-b': 1 } })
  t.same((r.json as { paused: unknown }).paused, [pause], 'paused senders listed with their record')

  const human = await sms(env, 'stats')
  t.equal(human.code, 0)
  t.match(human.output, /sms:jobs\s+4\s+1\s+3\s+2\s+1\s+3/)
  t.match(human.output, /sender-a\s+2/)
  t.match(human.output, /sender-a\s+tencent\s+\d+ s/, 'the paused sender, its providers and when it resumes')
})

t.test('four partitions: stats sum, dead list masks, replay one and all, purge needs --yes', async (t) => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = server.client()
  const env = { REDIS_URL: server.url, STREAM_PARTITIONS: '4' }
  const ps = partitionsOf(4)
  for (const [i, p] of ps.entries()) {
    const k = keys(p)
    for (let j = 0; j <= i; j++) await redis.xadd(k.jobs, '*', ...codeJob(p, `+86138000000${i}${j}`).fields)
    await redis.xgroup('CREATE', k.jobs, GROUP, '0')
    await redis.set(k.sentCounter(sentBucketOf(Date.now())), i + 1)
  }
  await redis.xreadgroup('GROUP', GROUP, 'sender-x', 'COUNT', 1, 'STREAMS', keys(ps[3]!).jobs, '>')
  await redis.xreadgroup('GROUP', GROUP, 'sender-x', 'COUNT', 2, 'STREAMS', keys(ps[2]!).jobs, '>')
  // Sealed (replayable), then one without any code and one expired: neither can be sent again.
  const deadJobs = [codeJob(ps[1]!, '+8613811112222', { attempts: 5 }), codeJob(ps[3]!, '+8613833334444', { attempts: 5 })]
  const deadIds: string[] = []
  for (const [i, d] of deadJobs.entries()) {
    const p = ps[i === 0 ? 1 : 3]!
    await redis.hset(keys(p).request(d.requestId), 'requestId', d.requestId, 'status', 'failed', 'attempts', '5')
    deadIds.push((await redis.xadd(keys(p).dead, '*', ...deadFields(d, 'attempts_exhausted', 'provider timeout for +8613811112222', ['sealed', 'c2VhbGVk'])))!)
  }
  const noCode = await redis.xadd(keys(ps[0]!).dead, '*', ...deadFields(codeJob(ps[0]!, '+8613800001111'), 'permanent', 'bad template'))
  const expired = await redis.xadd(keys(ps[0]!).dead, '*', ...deadFields(codeJob(ps[0]!, '+8613800002222', { expiresAt: 1 }), 'permanent', 'x', ['sealed', 'c2VhbGVk']))

  const stats = await sms(env, 'stats', '--json')
  t.equal(stats.code, 0, stats.output)
  const s = stats.json as { partitions: Array<Record<string, unknown>>, totals: Record<string, unknown> }
  t.same(s.partitions.map((x) => x.stream), ['sms:jobs:{0}', 'sms:jobs:{1}', 'sms:jobs:{2}', 'sms:jobs:{3}'])
  t.same(s.partitions.map((x) => x.length), [1, 2, 3, 4])
  t.same(s.partitions.map((x) => x.pending), [0, 0, 2, 1])
  t.same(s.partitions.map((x) => x.dead), [2, 1, 0, 1])
  t.match(s.totals, { length: 10, pending: 3, lag: 7, dead: 4, lastMinute: 10, pendingByConsumer: { 'sender-x': 3 } })

  const list = await sms(env, 'dead', 'list', '--json')
  t.equal(list.code, 0, list.output)
  const letters = (list.json as { total: number, deadLetters: Array<Record<string, unknown>> })
  t.equal(letters.total, 4)
  t.match(letters.deadLetters.slice(2), [
    { partition: 1, id: deadIds[0], requestId: deadJobs[0]!.requestId, reason: 'attempts_exhausted', attempts: 5, mobile: '138****2222', error: 'provider timeout for 138****2222' },
    { partition: 3, id: deadIds[1], mobile: '138****4444' },
  ])
  t.notMatch(list.output, SECRET, 'no code in the output')
  t.notMatch(list.output, /13811112222/, 'no full mobile in the output')
  const human = await sms(env, 'dead', 'list')
  t.match(human.output, /138\*\*\*\*2222/)
  t.notMatch(human.output, SECRET)

  // Entry ids are per stream: force a clash so the CLI must ask which partition.
  const twin = await redis.xadd(keys(ps[2]!).dead, deadIds[0]!, ...deadFields(codeJob(ps[2]!, '+8613800003333'), 'permanent', 'x', ['sealed', 'c2VhbGVk']))
  t.equal((await sms(env, 'dead', 'replay', deadIds[0]!)).code, 2, 'an id held by two partitions needs --partition')
  await redis.xdel(keys(ps[2]!).dead, twin!)
  const one = await sms(env, 'dead', 'replay', deadIds[0]!, '--partition', '1', '--json')
  t.equal(one.code, 0, one.output)
  t.match(one.json, { replayed: 1, entries: [{ partition: 1, deadId: deadIds[0], requestId: deadJobs[0]!.requestId }] })
  t.equal(await redis.xlen(keys(ps[1]!).dead), 0)
  const [requeued] = await redis.xrevrange(keys(ps[1]!).jobs, '+', '-', 'COUNT', 1)
  const fields = recordOf<string>(requeued![1])
  t.match(fields, { requestId: deadJobs[0]!.requestId, mobile: '+8613811112222', sealed: 'c2VhbGVk', attempts: '0', kind: 'code', v: '1' })
  for (const f of ['reason', 'lastError', 'failedAt', 'entryId']) t.notOk(f in fields, `dead-letter field ${f} is dropped`)
  t.equal(await redis.hget(keys(ps[1]!).request(deadJobs[0]!.requestId), 'status'), 'queued', 'failed status reopened')

  const again = await sms(env, 'dead', 'replay', deadIds[0]!, '--partition', '1', '--json')
  t.equal(again.code, 3, 'replaying a gone entry is not found')
  t.equal(again.json.error, 'not_found')

  const stuck = await sms(env, 'dead', 'replay', noCode!, '--partition', '0', '--json')
  t.equal(stuck.code, 1, 'a dead letter without a code cannot be replayed')
  t.match(stuck.json, { error: 'not_replayable', message: /no code/ })

  const all = await sms(env, 'dead', 'replay', '--all', '--json')
  t.equal(all.code, 0, all.output)
  t.match(all.json, { replayed: 1, skipped: 2, skippedEntries: [{ deadId: noCode, reason: 'no_code' }, { deadId: expired, reason: 'expired' }] })
  t.equal(await redis.xlen(keys(ps[0]!).dead), 2, 'skipped entries stay dead')
  t.equal(await redis.xlen(keys(ps[3]!).dead), 0)
  t.equal(await redis.xlen(keys(ps[3]!).jobs), 5)

  t.equal((await sms(env, 'dead', 'replay')).code, 2, 'replay needs an id or --all')
  t.equal((await sms(env, 'dead', 'replay', 'nope')).code, 2, 'a malformed id is a usage error')

  for (const p of ps) await redis.xadd(keys(p).dead, '*', ...codeJob(p, '+8613855556666').fields, 'reason', 'permanent')
  const refused = await sms(env, 'dead', 'purge')
  t.equal(refused.code, 2)
  t.equal(await redis.xlen(keys(ps[0]!).dead), 3, 'nothing purged without --yes')
  const purged = await sms(env, 'dead', 'purge', '--yes', '--json')
  t.equal(purged.code, 0, purged.output)
  t.match(purged.json, { purged: 6 })
  for (const p of ps) t.equal(await redis.xlen(keys(p).dead), 0)
  t.match((await sms(env, 'dead', 'list', '--json')).json, { total: 0 })
})

t.test('status reads the record from the partition in the request id', async (t) => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = server.client()
  const env = { REDIS_URL: server.url, STREAM_PARTITIONS: '4' }
  const p = partitionsOf(4)[2]!
  const { requestId } = codeJob(p, '+8613812345678')
  const future = Date.now() + 60_000
  await redis.hset(keys(p).request(requestId), 'requestId', requestId, 'status', 'sent', 'mobile', '+8613812345678', 'purpose', 'login', 'attempts', '1', 'provider', 'console', 'expiresAt', String(future), 'updatedAt', String(Date.now()))

  const r = await sms(env, 'status', requestId, '--json')
  t.equal(r.code, 0, r.output)
  t.match(r.json, { requestId, status: 'sent', mobile: '138****5678', purpose: 'login', attempts: 1, provider: 'console', partition: 2 })
  t.notMatch(r.output, /13812345678/)
  t.match((await sms(env, 'status', requestId)).output, /status\s+sent/)

  await redis.hset(keys(p).request(requestId), 'expiresAt', String(Date.now() - 1))
  t.match((await sms(env, 'status', requestId, '--json')).json, { status: 'expired' }, 'an unchecked code past its expiry reads expired')

  const missing = await sms(env, 'status', '1-AAAAAAAAAAAAAAAA', '--json')
  t.equal(missing.code, 3)
  t.match(missing.json, { error: 'not_found' })
  t.equal((await sms(env, 'status', '9-AAAAAAAAAAAAAAAA')).code, 3, 'a partition beyond STREAM_PARTITIONS is not found')
  t.equal((await sms(env, 'status', 'not-an-id')).code, 2)
  t.equal((await sms(env, 'status')).code, 2, 'missing argument')
})

t.test('tail follows every partition, masked, and stops after --count', async (t) => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = server.client()
  const env = { REDIS_URL: server.url, STREAM_PARTITIONS: '4' }
  const ps = partitionsOf(4)
  await redis.xadd(keys(ps[0]!).jobs, '*', ...codeJob(ps[0]!, '+8613800000001').fields)
  const proc = startSms(env, 'tail', '--json', '--count', '3', '--block', '200')
  t.teardown(() => proc.kill('SIGKILL'))
  await proc.waitForLine((l) => String(l.msg).startsWith('following 4 streams'))
  const jobs = [codeJob(ps[1]!, '+8613811110001'), codeJob(ps[3]!, '+8613811110003'), codeJob(ps[1]!, '+8613811110004')]
  await redis.xadd(keys(ps[1]!).jobs, '*', ...jobs[0]!.fields)
  await redis.xadd(keys(ps[3]!).jobs, '*', ...jobs[1]!.fields)
  await redis.xadd(keys(ps[1]!).jobs, '*', ...jobs[2]!.fields, 'code', SECRET)
  t.equal(await proc.exited, 0, proc.output())
  const seen = proc.lines.filter((l) => 'requestId' in l)
  t.equal(seen.length, 3, 'the job queued before tail started is not shown')
  t.same(seen.map((l) => l.requestId).sort(), jobs.map((j) => j.requestId).sort())
  t.match(seen.find((l) => l.requestId === jobs[1]!.requestId), { partition: 3, kind: 'code', purpose: 'register', mobile: '138****0003' })
  t.notMatch(proc.output(), SECRET)
  t.notMatch(proc.output(), /13811110001/)
})

t.test('tail stops cleanly on SIGTERM', async (t) => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const proc = startSms({ REDIS_URL: server.url }, 'tail')
  t.teardown(() => proc.kill('SIGKILL'))
  await proc.waitForLine((l) => String(l.msg).startsWith('following 1 stream'))
  t.equal(await proc.kill('SIGTERM'), 0)
})

t.test('errors: usage 2, unreachable Redis 1, bad config 1', async (t) => {
  const server = await startRedis()
  const port = server.port
  await server.stop()
  const down = await sms({ REDIS_URL: `redis://127.0.0.1:${port}/0` }, 'stats', '--json')
  t.equal(down.code, 1)
  t.match(down.json, { error: 'redis_error', message: /cannot reach Redis/ })
  t.equal((await sms({ REDIS_URL: 'http://nope' }, 'stats')).code, 1)
  t.equal((await sms({}, 'frobnicate')).code, 2)
  t.equal((await sms({}, 'stats', '--frobnicate')).code, 2)
  t.equal((await sms({}, 'dead', 'bury')).code, 2)
  const bare = await smsProcess({})
  t.equal(bare.code, 2, 'no command prints help and is a usage error')
  t.match(bare.output, /Commands:/, 'the help names the commands')
  const help = await smsProcess({}, '--help')
  t.equal(help.code, 0)
  t.match(help.output, /dead <action> \[id\]/)
})
