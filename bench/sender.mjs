// Sender benchmark: drains queued jobs through the real Sender (built dist) and, on the same
// machine and Redis build, through a BullMQ Queue + Worker; also the idle CPU of a sender
// process with 16 empty partitions. `node bench/sender.mjs` prints a table;
// `runSenderBench()` returns the figures.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Queue, Worker } from 'bullmq'
import { freePort, startRedis, startRedisCluster } from '@sms-verify/testing/dist'
import { GROUP, JOB_VERSION, configSchema, createRedis, encodeJob, keys, loadConfig, partition } from '../packages/shared/dist/index.js'
import { Sender } from '../apps/sender/dist/sender.js'
import { redisCpuSeconds } from './cpu.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const silent = { info() {}, warn() {}, error() {}, debug() {}, trace() {}, fatal() {}, isLevelEnabled: () => false, child() { return silent } }

/**
 * Node CPU (this process: the consumer runs in it) and Redis CPU per job over `drain`, in µs,
 * the share of it the event loop was busy, and the drain's `window` in µs of CLOCK_MONOTONIC
 * (for profile.mjs).
 * This process also polls for the end (one XINFO per 5 ms), for both consumers alike.
 */
async function cpuPerJob(redis, jobs, drain, counting) {
  await redis.config('RESETSTAT') // so INFO commandstats after the drain counts the drain (profile.mjs reads it)
  const node = process.cpuUsage()
  const redisBefore = await redisCpuSeconds(redis)
  const from = nowMicros()
  const elu = performance.eventLoopUtilization()
  counting?.start()
  const result = await drain()
  const counted = counting?.stop()
  const busy = performance.eventLoopUtilization(elu).utilization
  const window = { from, to: nowMicros() }
  const used = process.cpuUsage(node)
  const redisSeconds = (await redisCpuSeconds(redis)) - redisBefore
  return { ...result, ...counted, window, eventLoopBusy: Number(busy.toFixed(2)), nodeCpuMicrosPerJob: Math.round((used.user + used.system) / jobs), redisCpuMicrosPerJob: Math.round((redisSeconds * 1e6) / jobs) }
}
const nowMicros = () => Number(process.hrtime.bigint() / 1000n)

const mobileOf = (i) => `+86139${String(i).padStart(8, '0')}`

/** Queues n jobs as the API would: the status record and the stream entry. */
async function enqueue(redis, n) {
  const p = partition(0, 1, false)
  const now = Date.now()
  for (let i = 0; i < n; i += 1000) {
    const pipe = redis.pipeline()
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      const requestId = `0-bench${String(j).padStart(11, '0')}`
      pipe.hset(keys(p).request(requestId), 'requestId', requestId, 'status', 'queued', 'attempts', 0, 'createdAt', now)
      pipe.xadd(p.stream, '*', ...encodeJob({ v: JOB_VERSION, kind: 'code', requestId, mobile: mobileOf(j), purpose: 'register', code: '123456', createdAt: now, expiresAt: now + 3_600_000, attempts: 0 }))
    }
    await pipe.exec()
  }
}

/**
 * The fake provider: accepts every message after `latencyMs` (a timer). `timed` sums what the
 * calls really took: a timer fires up to a millisecond late, so 20 ms calls take about 20.5,
 * and concurrency / 20 ms is a bound no consumer reaches.
 */
function provider(latencyMs) {
  let n = 0
  const timed = { calls: 0, totalMs: 0 }
  const accept = () => ({ kind: 'accepted', messageId: `bench-${++n}` })
  const slow = () => {
    const started = performance.now()
    return sleep(latencyMs).then(() => { timed.calls++; timed.totalMs += performance.now() - started; return accept() })
  }
  return {
    name: 'bench',
    timed,
    send: latencyMs > 0 ? slow : async () => accept(),
    sendBulk: async (m) => m.mobiles.map(accept),
  }
}

/** Drains `jobs` queued jobs through one Sender; jobs/s from start to the last ack. */
/** `counting`: optional start() and stop() around the drain alone (redis-instructions.mjs); stop's figures join the result */
export async function drainSender(url, { jobs, concurrency, latencyMs, counting }) {
  const config = loadConfig(configSchema, { REDIS_URL: url, SENDER_CONCURRENCY: String(concurrency), LOG_LEVEL: 'warn' })
  const redis = createRedis(config)
  await redis.flushall()
  await enqueue(redis, jobs)
  const fake = provider(latencyMs)
  const sender = new Sender({ config, redis, blockingRedis: createRedis(config, { enableAutoPipelining: false }), provider: fake, logger: silent })
  const stream = partition(0, 1, false).stream
  const drained = await cpuPerJob(redis, jobs, async () => {
    const started = performance.now()
    await sender.start()
    for (;;) {
      const [group] = await redis.call('XINFO', 'GROUPS', stream)
      const f = Object.fromEntries(Array.from({ length: group.length / 2 }, (_, i) => [group[2 * i], group[2 * i + 1]]))
      if (Number(f['entries-read']) >= jobs && Number(f.pending) === 0) break
      await sleep(5)
    }
    return { seconds: (performance.now() - started) / 1000 }
  }, counting)
  await sender.close()
  const sent = await redis.hget(keys(partition(0, 1, false)).request(`0-bench${String(jobs - 1).padStart(11, '0')}`), 'status')
  redis.disconnect()
  if (sent !== 'sent') throw new Error(`bench: last job reads ${sent}`)
  const providerMeanMs = fake.timed.calls > 0 ? fake.timed.totalMs / fake.timed.calls : 0
  return { jobs, ...drained, jobsPerSecond: jobs / drained.seconds, providerMeanMs }
}

/** The same jobs through BullMQ at the same concurrency, with attempts and exponential backoff. */
export async function drainBullmq(port, { jobs, concurrency, counting }) {
  const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null }
  const queue = new Queue('sms-bench', { connection })
  await queue.obliterate({ force: true }).catch(() => {})
  const now = Date.now()
  for (let i = 0; i < jobs; i += 1000) {
    await queue.addBulk(Array.from({ length: Math.min(1000, jobs - i) }, (_, k) => {
      const j = i + k
      return {
        name: 'send',
        data: { requestId: `0-bench${j}`, mobile: mobileOf(j), purpose: 'register', code: '123456', createdAt: now, expiresAt: now + 3_600_000 },
        opts: { attempts: 5, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: 1000 },
      }
    }))
  }
  const p = provider(0)
  const counter = createRedis(loadConfig(configSchema, { REDIS_URL: `redis://127.0.0.1:${port}/0` }))
  const drained = await cpuPerJob(counter, jobs, async () => {
    let done = 0
    let finished
    const all = new Promise((r) => { finished = r })
    const started = performance.now()
    const worker = new Worker('sms-bench', async (job) => {
      const outcome = await p.send(job.data)
      if (outcome.kind !== 'accepted') throw new Error(outcome.error)
      return outcome.messageId
    }, { connection, concurrency })
    worker.on('completed', () => { if (++done === jobs) finished() })
    await all
    const seconds = (performance.now() - started) / 1000
    await worker.close()
    return { seconds }
  }, counting)
  counter.disconnect()
  await queue.close()
  return { jobs, ...drained, jobsPerSecond: jobs / drained.seconds }
}

/**
 * CPU of an idle sender process over `ms`, with 16 empty partitions, as a share of one core.
 * `redis`: { REDIS_URL } standalone or { REDIS_CLUSTER_NODES } for a cluster.
 */
export async function idleCpu(redis, ms = 10_000) {
  const child = spawn(process.execPath, [join(root, 'apps/sender/dist/main.js')], {
    cwd: root,
    // a cluster is a deployment: the sender refuses to start without its secrets
    env: { PATH: process.env.PATH, JOB_SEAL_KEY: randomBytes(32).toString('base64'), CODE_PEPPER: randomBytes(32).toString('base64'), ...redis, STREAM_PARTITIONS: '16', METRICS_PORT: String(await freePort()), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  await new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (c) => { out += c; if (out.includes('"sender started"')) resolve() })
    child.once('exit', (code) => reject(new Error(`sender exited ${code}`)))
  })
  await sleep(1000)
  const ticks = () => { const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]) }
  const t0 = ticks()
  await sleep(ms)
  const used = (ticks() - t0) / 100 // USER_HZ is 100 on Linux
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  return { seconds: ms / 1000, cpuShare: used / (ms / 1000) }
}

/** The same idle measurement against a real 6-node cluster (3 masters), 16 partitions spread over them. */
async function idleCpuOnCluster() {
  const cluster = await startRedisCluster()
  try {
    return await idleCpu({ REDIS_CLUSTER_NODES: cluster.seeds })
  } finally {
    await cluster.stop()
  }
}

/** Every drain of the bench runs 64 jobs in flight (drain-child.mjs, profile.mjs). */
export const BENCH_CONCURRENCY = 64

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const fixed = (x, digits) => Number(x.toFixed(digits))

/** One drain in a child process (drain-child.mjs): its figures. */
async function drainInChild(kind, url, { jobs, warm, latencyMs = 0 }) {
  const child = spawn(process.execPath, [join(root, 'bench/drain-child.mjs'), kind, url, String(jobs), String(warm), String(latencyMs)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (c) => { out += c })
  const code = await new Promise((resolve) => child.once('exit', resolve))
  if (code !== 0) throw new Error(`bench: the ${kind} drain exited ${code}`)
  return JSON.parse(out.trim().split('\n').at(-1))
}

/**
 * The sender and BullMQ drain the same jobs in turn, `rounds` times each (BENCH_SENDER_ROUNDS, 3),
 * each drain in a fresh process after a warm-up drain of as many jobs: either one's
 * throughput swings by a third between drains on this machine, so each figure is a median, and
 * the ratio is also given round by round (each round's two drains side by side).
 */
export async function runSenderBench({ jobs = 50_000, latencyJobs = 20_000, latencyMs = 20, rounds = 3 } = {}) {
  const concurrency = BENCH_CONCURRENCY
  const redis = await startRedis()
  try {
    const warm = jobs
    const senders = []
    const bullmqs = []
    for (let i = 0; i < rounds; i++) {
      senders.push(await drainInChild('sender', redis.url, { jobs, warm }))
      bullmqs.push(await drainInChild('bullmq', redis.url, { jobs, warm }))
    }
    const bare = await drainInChild('ceiling', redis.url, { jobs, warm })
    const latency = await drainInChild('sender', redis.url, { jobs: latencyJobs, warm: 0, latencyMs })
    const bound = concurrency / (latencyMs / 1000)
    const measuredBound = concurrency / (latency.providerMeanMs / 1000)
    const idle = await idleCpu({ REDIS_URL: redis.url })
    const idleCluster = await idleCpuOnCluster()
    const senderPerSecond = median(senders.map((d) => d.jobsPerSecond))
    const bullmqPerSecond = median(bullmqs.map((d) => d.jobsPerSecond))
    const roundRatios = senders.map((d, i) => d.jobsPerSecond / bullmqs[i].jobsPerSecond)
    return {
      jobs, concurrency, rounds,
      senderJobsPerSecond: Math.round(senderPerSecond),
      bullmqJobsPerSecond: Math.round(bullmqPerSecond),
      ratioVsBullmq: fixed(senderPerSecond / bullmqPerSecond, 2),
      ratioVsBullmqByRound: roundRatios.map((r) => fixed(r, 2)).join(' / '),
      senderNodeCpuMicrosPerJob: median(senders.map((d) => d.nodeCpuMicrosPerJob)),
      bullmqNodeCpuMicrosPerJob: median(bullmqs.map((d) => d.nodeCpuMicrosPerJob)),
      senderRedisCpuMicrosPerJob: median(senders.map((d) => d.redisCpuMicrosPerJob)),
      bullmqRedisCpuMicrosPerJob: median(bullmqs.map((d) => d.redisCpuMicrosPerJob)),
      // the share of the drain the consumer's event loop was busy: below 1, it waited on Redis round trips
      senderEventLoopBusy: median(senders.map((d) => d.eventLoopBusy)),
      bullmqEventLoopBusy: median(bullmqs.map((d) => d.eventLoopBusy)),
      ceilingBareConsumerJobsPerSecond: Math.round(bare.jobsPerSecond),
      ceilingBareConsumerVsBullmq: fixed(bare.jobsPerSecond / bullmqPerSecond, 2),
      latencyMs, latencyJobs,
      latencyJobsPerSecond: Math.round(latency.jobsPerSecond),
      latencyBound: bound,
      latencyShareOfBound: fixed(latency.jobsPerSecond / bound, 3),
      latencyProviderMeanMs: fixed(latency.providerMeanMs, 2),
      latencyMeasuredBound: Math.round(measuredBound),
      latencyShareOfMeasuredBound: fixed(latency.jobsPerSecond / measuredBound, 3),
      idlePartitions: 16,
      idleCpuShareOfCore: fixed(idle.cpuShare, 4),
      idleCpuShareOfCoreCluster: fixed(idleCluster.cpuShare, 4),
      targets: { ratioVsBullmq: '>= 2', latencyShareOfBound: '>= 0.98', latencyShareOfMeasuredBound: '>= 0.98', idleCpuShareOfCore: '< 0.02' },
    }
  } finally {
    await redis.stop()
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await runSenderBench()
  console.table([
    { figure: `sender, zero-latency provider, ${r.jobs} jobs, concurrency ${r.concurrency}`, value: `${r.senderJobsPerSecond} jobs/s`, target: '' },
    { figure: 'BullMQ Queue + Worker, same jobs, attempts 5 + exponential backoff', value: `${r.bullmqJobsPerSecond} jobs/s`, target: '' },
    { figure: `ratio sender / BullMQ (medians of ${r.rounds} drains each)`, value: `${r.ratioVsBullmq}x`, target: '>= 2x' },
    { figure: 'the ratio round by round', value: r.ratioVsBullmqByRound, target: '' },
    { figure: 'Node CPU per job, sender / BullMQ worker', value: `${r.senderNodeCpuMicrosPerJob} / ${r.bullmqNodeCpuMicrosPerJob} µs`, target: '' },
    { figure: 'Redis CPU per job, sender / BullMQ worker', value: `${r.senderRedisCpuMicrosPerJob} / ${r.bullmqRedisCpuMicrosPerJob} µs`, target: '' },
    { figure: 'event loop busy during the drain, sender / BullMQ worker', value: `${r.senderEventLoopBusy} / ${r.bullmqEventLoopBusy}`, target: '' },
    { figure: 'ceiling: bare XREADGROUP + XACK loop, no guarantees', value: `${r.ceilingBareConsumerJobsPerSecond} jobs/s (${r.ceilingBareConsumerVsBullmq}x)`, target: '' },
    { figure: `sender, ${r.latencyMs} ms provider, ${r.latencyJobs} jobs`, value: `${r.latencyJobsPerSecond} jobs/s of ${r.latencyBound}`, target: '' },
    { figure: 'share of concurrency / latency bound', value: r.latencyShareOfBound, target: '>= 0.98' },
    { figure: `the same with the calls' measured mean, ${r.latencyProviderMeanMs} ms`, value: `${r.latencyShareOfMeasuredBound} of ${r.latencyMeasuredBound}`, target: '>= 0.98' },
    { figure: 'idle sender, 16 empty partitions, CPU share of one core', value: `${(r.idleCpuShareOfCore * 100).toFixed(2)}%`, target: '< 2%' },
    { figure: 'the same against a 3-master cluster', value: `${(r.idleCpuShareOfCoreCluster * 100).toFixed(2)}%`, target: '< 2%' },
  ])
  process.exit(0)
}
