// Ceilings for the sender benchmark: the same queued jobs, zero-latency provider, 64 jobs in
// flight (two read batches of 32), through the simplest loops that could drain them:
//   bare     XREADGROUP, call, XACK: a stream consumer with none of the guarantees
//   scripts  the same loop plus lease.lua before and finish.lua after each batch, with the real
//            arguments: the Redis work the guarantees need, and none of the Sender's own logic
// They show how far any sender with these guarantees could go on this machine.
import { GROUP, JOB_VERSION, SENT_BUCKET_TTL_MS, configSchema, createRedis, decodeJob, encodeJob, keys, loadConfig, partition, sentBucketOf } from '../packages/shared/dist/index.js'
import { defineSenderScripts } from '../apps/sender/dist/scripts.js'

const BATCH = 32
const LOOPS = 2

async function enqueue(redis, k, stream, jobs) {
  const now = Date.now()
  for (let i = 0; i < jobs; i += 1000) {
    const pipe = redis.pipeline()
    for (let j = i; j < Math.min(jobs, i + 1000); j++) {
      const requestId = `0-ceil${String(j).padStart(11, '0')}`
      pipe.hset(k.request(requestId), 'requestId', requestId, 'status', 'queued', 'attempts', 0, 'createdAt', now)
      pipe.xadd(stream, '*', ...encodeJob({ v: JOB_VERSION, kind: 'code', requestId, mobile: `+86139${String(j).padStart(8, '0')}`, purpose: 'register', code: '123456', createdAt: now, expiresAt: now + 3_600_000, attempts: 0 }))
    }
    await pipe.exec()
  }
}

/** RESP2 [[stream, items]] or RESP3 flattened [stream, items]. */
const itemsOf = (reply) => (typeof reply[0] === 'string' ? reply[1] : reply[0][1])

/** jobs/s of one ceiling loop (`mode`: 'bare' | 'scripts') over `jobs` queued jobs on the Redis at `url`. */
export async function drainCeiling(url, { jobs, mode }) {
  const config = loadConfig(configSchema, { REDIS_URL: url })
  const redis = defineSenderScripts(createRedis(config))
  const p = partition(0, 1, false)
  const k = keys(p)
  await redis.flushall()
  await enqueue(redis, k, p.stream, jobs)
  await redis.xgroup('CREATE', p.stream, GROUP, '0')
  const send = async () => ({ kind: 'accepted', messageId: 'ceiling' })
  let token = 0
  const loop = async () => {
    for (;;) {
      const reply = await redis.call('XREADGROUP', 'GROUP', GROUP, 'ceiling', 'COUNT', BATCH, 'STREAMS', p.stream, '>')
      if (!reply) return
      const now = Date.now()
      const batch = itemsOf(reply).map(([id, fields]) => ({ id, job: decodeJob(fields).job }))
      if (mode === 'bare') {
        await Promise.all(batch.map(() => send()))
        await redis.xack(p.stream, GROUP, ...batch.map((b) => b.id))
        continue
      }
      const lease = [GROUP, now, 10_000, 5]
      for (const { id, job } of batch) lease.push(k.lease(job.requestId), k.request(job.requestId), id, `t${++token}`, job.attempts, job.expiresAt)
      await redis.senderLease(p.stream, ...lease)
      const outcomes = await Promise.all(batch.map(() => send()))
      const finish = [GROUP, now, k.sentCounter(sentBucketOf(now)), SENT_BUCKET_TTL_MS]
      batch.forEach(({ id, job }, i) => finish.push(k.lease(job.requestId), k.request(job.requestId), k.serial('ceiling', outcomes[i].messageId),
        id, 'sent', 60_000, 0, job.requestId, '', 3, 'attempts', 1, 'provider', 'ceiling', 'messageId', outcomes[i].messageId))
      await redis.senderFinish(p.stream, ...finish)
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: LOOPS }, loop))
  const seconds = (performance.now() - started) / 1000
  const last = await redis.hget(k.request(`0-ceil${String(jobs - 1).padStart(11, '0')}`), 'status')
  redis.disconnect()
  if (mode === 'scripts' && last !== 'sent') throw new Error(`ceiling: last job reads ${last}`)
  return { jobs, seconds, jobsPerSecond: jobs / seconds }
}
