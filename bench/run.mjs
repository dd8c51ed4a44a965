// pnpm bench: the service beside its peers in one run, every figure printed as tables and
// written to bench/results/latest.json and bench/README.md. Each part starts its own Redis
// on free ports. `node bench/run.mjs http,cluster,sender` runs some parts.
// BENCH_ROUNDS (3) rounds of BENCH_SECONDS (8) per server, after BENCH_WARM_SECONDS (2);
// BENCH_SENDER_JOBS (50000) jobs per sender drain, BENCH_SENDER_ROUNDS (3) drains of the sender and BullMQ each. `node bench/run.mjs readme` writes
// bench/README.md again from results/latest.json (after an edit of the template), measuring nothing.
import { freePort, startRedis, startRedisCluster } from '@sms-verify/testing/dist'
import { Redis } from 'ioredis'
import { startCounting } from './cpu.mjs'
import { load, nextMobile, startServer } from './http.mjs'
import { httpRound } from './http-bench.mjs'
import { apiEnv, sendPeers } from './http-peers.mjs'
import { report, rerender } from './report.mjs'
import { summarizeHttp } from './summary.mjs'

const settings = {
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
  seconds: Number(process.env.BENCH_SECONDS ?? 8),
  warmSeconds: Number(process.env.BENCH_WARM_SECONDS ?? 2),
}
if (process.argv[2] === 'readme') {
  rerender()
  console.log('written bench/README.md from bench/results/latest.json')
  process.exit(0)
}
const parts = process.argv[2]?.split(',')
const wanted = (part) => !parts || parts.includes(part)
const results = {}

async function httpBench() {
  const redis = await startRedis()
  const admin = redis.client()
  try {
    const rounds = []
    for (let i = 1; i <= settings.rounds; i++) {
      console.log(`http: round ${i} of ${settings.rounds}`)
      rounds.push(await httpRound({ redisUrl: redis.url, admin, seconds: settings.seconds, warmSeconds: settings.warmSeconds }))
    }
    results.http = { ...summarizeHttp(rounds), rounds }
  } finally {
    await redis.stop()
  }
}

async function clusterBench() {
  const cluster = await startRedisCluster()
  try {
    const port = await freePort()
    const api = await startServer(sendPeers.find((p) => p.id === 'api').script, apiEnv({ REDIS_CLUSTER_NODES: cluster.seeds, PORT: String(port) }))
    const masters = await cluster.masters()
    const clients = masters.map((p) => new Redis({ port: p }))
    const options = { port, path: '/v1/sms-codes', body: () => ({ mobile: nextMobile('158'), purpose: 'register' }) }
    let real
    try {
      await load({ ...options, seconds: settings.warmSeconds })
      const counting = await startCounting(api.pid, clients)
      const figures = await load({ ...options, seconds: settings.seconds })
      real = { ...figures, ...(await counting.stop(figures.accepted)) }
    } finally {
      await api.stop()
      clients.forEach((c) => c.disconnect())
    }
    // Each master is one core's worth of Redis. A send costs redisCpuMicrosPerRequest of Redis CPU in all
    // (its script on the mobile's master, the per-IP keys on theirs), so n masters on their own cores
    // carry n × 1e6 / that, when partitions and client IPs spread evenly and the APIs keep up.
    const perMaster = Math.round(1e6 / Math.max(1, real.redisCpuMicrosPerRequest))
    results.cluster = {
      masters: masters.length, real,
      capacityEstimate: { perMasterCore: perMaster, masters3: 3 * perMaster, masters6: 6 * perMaster, masters12: 12 * perMaster },
    }
    if (results.http) results.cluster.vsStandalone = Math.round((real.requestsPerSec / results.http.send.api.requestsPerSec) * 1000) / 1000
  } finally {
    await cluster.stop()
  }
}

async function senderBench() {
  const { runSenderBench } = await import('./sender.mjs')
  const jobs = Number(process.env.BENCH_SENDER_JOBS ?? 50_000)
  results.sender = await runSenderBench({ jobs, latencyJobs: Math.round(jobs * 0.4), rounds: Number(process.env.BENCH_SENDER_ROUNDS ?? 3) })
}

const started = Date.now()
if (wanted('http')) await httpBench()
if (wanted('cluster')) await clusterBench()
if (wanted('sender')) await senderBench()
report(results, { ...settings, parts: parts ?? ['http', 'cluster', 'sender'], wallSeconds: Math.round((Date.now() - started) / 1000) })
process.exit(0) // a client of a stopped server may still be retrying its connection
