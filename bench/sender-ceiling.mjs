// The ceiling for the sender benchmark: the same queued jobs, zero-latency provider, 64 jobs in
// flight (two read batches of 32), through the simplest loop that drains them: XREADGROUP, call,
// XACK, with none of the guarantees (no lease, no status record, no retries, no dead letters).
// Any sender that keeps those guarantees does all of this and more, so it cannot go faster.
import { GROUP, JOB_VERSION, configSchema, createRedis, decodeJob, encodeJob, keys, loadConfig, partition } from '../packages/shared/dist/index.js'

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

/** jobs/s of the bare loop over `jobs` queued jobs on the Redis at `url`. */
export async function drainCeiling(url, { jobs }) {
  const config = loadConfig(configSchema, { REDIS_URL: url })
  const redis = createRedis(config)
  const p = partition(0, 1, false)
  await redis.flushall()
  await enqueue(redis, keys(p), p.stream, jobs)
  await redis.xgroup('CREATE', p.stream, GROUP, '0')
  const send = async () => ({ kind: 'accepted', messageId: 'ceiling' })
  let done = 0
  const loop = async () => {
    for (;;) {
      const reply = await redis.call('XREADGROUP', 'GROUP', GROUP, 'ceiling', 'COUNT', BATCH, 'STREAMS', p.stream, '>')
      if (!reply) return
      const batch = itemsOf(reply).map(([id, fields]) => ({ id, job: decodeJob(fields).job }))
      await Promise.all(batch.map(() => send()))
      const acked = await redis.xack(p.stream, GROUP, ...batch.map((b) => b.id))
      done += acked
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: LOOPS }, loop))
  const seconds = (performance.now() - started) / 1000
  redis.disconnect()
  if (done !== jobs) throw new Error(`ceiling: acked ${done} of ${jobs}`)
  return { jobs, seconds, jobsPerSecond: jobs / seconds }
}
