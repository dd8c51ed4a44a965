import t from 'tap'
import { keys } from '@sms-verify/shared'
import { startRedis } from '@sms-verify/testing'
import { codeJob, deadFields, partitionsOf, sms } from './helpers/sms.js'

t.test('status masks the mobile, never an entry id or another identifier', async (t) => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = server.client()
  const env = { REDIS_URL: server.url }
  const [p] = partitionsOf(1)
  const { requestId } = codeJob(p!, '+8613812345678')
  const entryId = '1790000004225-0'
  const messageId = '2640:13812345678901234567'
  await redis.hset(keys(p!).request(requestId), 'requestId', requestId, 'status', 'failed', 'mobile', '+8613812345678', 'entryId', entryId,
    'messageId', messageId, 'error', 'provider refused +8613812345678', 'updatedAt', String(Date.now()))

  const r = await sms(env, 'status', requestId, '--json')
  t.equal(r.code, 0, r.output)
  t.match(r.json, { entryId, messageId, mobile: '138****5678', error: 'provider refused 138****5678' })
  const human = await sms(env, 'status', requestId)
  t.match(human.output, new RegExp(`entryId\\s+${entryId}`), 'the table shows the entry id whole')
  t.notMatch(human.output, /179\*{4}/)
  t.notMatch(human.output, /13812345678(?!9)/, 'the mobile never appears whole')
})

t.test('dead replay takes a request id: every dead letter of that request, on any partition', async (t) => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = server.client()
  const env = { REDIS_URL: server.url, STREAM_PARTITIONS: '4' }
  const ps = partitionsOf(4)
  // A request whose jobs died on two partitions (a bulk request's chunks do), and a bystander.
  const job = codeJob(ps[1]!, '+8613811112222')
  const bystander = codeJob(ps[1]!, '+8613833334444')
  await redis.hset(keys(ps[1]!).request(job.requestId), 'requestId', job.requestId, 'status', 'failed')
  const sealed = ['sealed', 'c2VhbGVk']
  await redis.xadd(keys(ps[1]!).dead, '*', ...deadFields(job, 'attempts_exhausted', 'timeout', sealed))
  const other = await redis.xadd(keys(ps[1]!).dead, '*', ...deadFields(bystander, 'attempts_exhausted', 'timeout', sealed))
  const second = await redis.xadd(keys(ps[2]!).dead, '*', ...deadFields(job, 'attempts_exhausted', 'timeout', sealed))

  const missing = await sms(env, 'dead', 'replay', '1-AAAAAAAAAAAAAAAA', '--json')
  t.equal(missing.code, 3, missing.output)
  t.match(missing.json, { error: 'not_found', message: /request 1-AAAAAAAAAAAAAAAA/ })

  const onlyOne = await sms(env, 'dead', 'replay', job.requestId, '--partition', '2', '--json')
  t.equal(onlyOne.code, 0, onlyOne.output)
  t.match(onlyOne.json, { replayed: 1, entries: [{ partition: 2, deadId: second, requestId: job.requestId }] })

  await redis.xadd(keys(ps[2]!).dead, '*', ...deadFields(job, 'attempts_exhausted', 'timeout', sealed))
  const r = await sms(env, 'dead', 'replay', job.requestId, '--json')
  t.equal(r.code, 0, r.output)
  t.match(r.json, { replayed: 2, skipped: 0 })
  t.same((r.json.entries as Array<{ requestId: string }>).map((e) => e.requestId), [job.requestId, job.requestId])
  t.same((await redis.xrange(keys(ps[1]!).dead, '-', '+')).map(([id]) => id), [other], 'the other request stays dead')
  t.equal(await redis.xlen(keys(ps[2]!).dead), 0)
  t.equal(await redis.hget(keys(ps[1]!).request(job.requestId), 'status'), 'queued', 'the failed request is reopened')

  const again = await sms(env, 'dead', 'replay', job.requestId)
  t.equal(again.code, 3, 'nothing left to replay for that request')
  const bad = await sms(env, 'dead', 'replay', 'not-an-id')
  t.equal(bad.code, 2)
  t.match(bad.output, /entry id or a request id/)
})
