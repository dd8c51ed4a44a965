// pnpm bench: every figure the issues ask for, printed as a table and written
// to bench/results/latest.json. Each part starts its own Redis on free ports.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { Redis } from 'ioredis'
import { freePort, startRedis, startRedisCluster, TEST_SECRETS } from '@sms-verify/testing/dist'
import { loadSendRoute, startServer } from './http.mjs'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const parts = process.argv[2]?.split(',') // optional, comma-separated: http, cluster, sender
const wanted = (part) => !parts || parts.includes(part)
const results = {}

/** Environment for the real API: every check on, limits high enough not to trip under one IP. */
const apiEnv = (extra) => ({
  LOG_LEVEL: 'info', RATE_LIMIT_PER_MINUTE: '1000000000', SEND_LIMIT_PER_IP_PER_HOUR: '1000000000',
  SMS_DAILY_LIMIT_PER_MOBILE: '10', STREAM_MAXLEN: '100000000', CODE_PEPPER: 'bench-pepper', ...extra,
})

async function commandsPerSend(clients, accepted) {
  let calls = 0
  for (const c of clients) {
    const info = await c.info('commandstats')
    for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      if (!['info', 'cluster', 'command', 'ping', 'config', 'client'].includes(m[1])) calls += Number(m[2])
    }
  }
  return Math.round((calls / Math.max(1, accepted)) * 100) / 100
}

/** Seconds of CPU a Redis server has used (INFO cpu: user + sys, main thread and all). */
async function redisCpuSeconds(client) {
  const info = await client.info('cpu')
  const read = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0)
  return read('used_cpu_user') + read('used_cpu_sys')
}

/** Redis CPU per accepted send, in microseconds, summed over the given servers. */
async function cpuPerSend(clients, before, accepted) {
  const after = await Promise.all(clients.map(redisCpuSeconds))
  const used = after.reduce((sum, a, i) => sum + a - before[i], 0)
  return Math.round((used / Math.max(1, accepted)) * 1e6)
}

async function httpBench() {
  const redis = await startRedis()
  try {
    const admin = redis.client()
    const refPort = await freePort()
    const ref = await startServer('bench/reference-server.mjs', { REDIS_URL: redis.url, PORT: String(refPort) })
    const reference = await loadSendRoute({ port: refPort, seconds: SECONDS, prefix: '137' }).finally(() => ref.stop())
    // The ceiling: the same bare route, but the real send.lua with the API's keys and env (see ceiling-server.mjs).
    // Each run starts from an empty Redis, so one run's keys (the per-IP window, the stream) do not slow the next.
    await admin.flushall('SYNC')
    const ceilPort = await freePort()
    const ceil = await startServer('bench/ceiling-server.mjs', apiEnv({ REDIS_URL: redis.url, PORT: String(ceilPort) }))
    const ceiling = await loadSendRoute({ port: ceilPort, seconds: SECONDS, prefix: '136' }).finally(() => ceil.stop())
    await admin.flushall('SYNC')
    // Counted from here on: the real API's commands and Redis CPU only.
    await admin.config('RESETSTAT')
    const apiPort = await freePort()
    const api = await startServer('apps/api/dist/main.js', apiEnv({ REDIS_URL: redis.url, PORT: String(apiPort) }))
    const cpuBefore = [await redisCpuSeconds(admin)]
    const real = await loadSendRoute({ port: apiPort, seconds: SECONDS, prefix: '139' }).finally(() => api.stop())
    const perSend = await commandsPerSend([admin], real.accepted)
    const redisCpuMicrosPerSend = await cpuPerSend([admin], cpuBefore, real.accepted)
    const ratio = (a, b) => Math.round((a.requestsPerSec / b.requestsPerSec) * 1000) / 1000
    results.sendRoute = {
      reference, ceiling, real, ceilingRatio: ratio(ceiling, reference), ratio: ratio(real, reference),
      redisCommandsPerSend: perSend, redisCpuMicrosPerSend,
    }
  } finally {
    await redis.stop()
  }
}

async function clusterBench() {
  const cluster = await startRedisCluster()
  try {
    const apiPort = await freePort()
    const api = await startServer('apps/api/dist/main.js', apiEnv({ ...TEST_SECRETS, REDIS_CLUSTER_NODES: cluster.seeds, PORT: String(apiPort) }))
    const masters = await cluster.masters()
    const clients = masters.map((p) => new Redis({ port: p }))
    await Promise.all(clients.map((c) => c.config('RESETSTAT')))
    const cpuBefore = await Promise.all(clients.map(redisCpuSeconds))
    const real = await loadSendRoute({ port: apiPort, seconds: SECONDS, prefix: '158' }).finally(() => api.stop())
    const perSend = await commandsPerSend(clients, real.accepted)
    const redisCpuMicrosPerSend = await cpuPerSend(clients, cpuBefore, real.accepted)
    clients.forEach((c) => c.disconnect())
    // Each master is one core's worth of Redis. A send costs redisCpuMicrosPerSend of Redis CPU in all
    // (its script on the mobile's master, the per-IP keys on theirs), so n masters on their own cores
    // carry n × 1e6 / that, when partitions and client IPs spread evenly and the APIs keep up.
    const perMaster = Math.round(1e6 / Math.max(1, redisCpuMicrosPerSend))
    results.cluster = {
      masters: masters.length, real, redisCommandsPerSend: perSend, redisCpuMicrosPerSend,
      capacityEstimate: { perMasterCore: perMaster, masters3: 3 * perMaster, masters6: 6 * perMaster, masters12: 12 * perMaster },
    }
    if (results.sendRoute) results.cluster.vsStandalone = Math.round((real.requestsPerSec / results.sendRoute.real.requestsPerSec) * 1000) / 1000
  } finally {
    await cluster.stop()
  }
}

async function senderBench() {
  const { runSenderBench } = await import('./sender.mjs')
  results.sender = await runSenderBench()
}

if (wanted('http')) await httpBench()
if (wanted('cluster')) await clusterBench()
if (wanted('sender')) await senderBench()

const rows = []
if (results.sendRoute) {
  const s = results.sendRoute
  rows.push(['send route: bare reference (req/s)', s.reference.requestsPerSec, `p99 ${s.reference.latencyP99Ms} ms`])
  rows.push(['send route: bare route + full send script (req/s)', s.ceiling.requestsPerSec, `p99 ${s.ceiling.latencyP99Ms} ms, ${s.ceiling.accepted} accepted, ${s.ceiling.non2xx} non-2xx`])
  rows.push(['send route: ceiling ratio (no API code at all)', s.ceilingRatio, 'bare route + full send script / bare reference'])
  rows.push(['send route: real API (req/s)', s.real.requestsPerSec, `p99 ${s.real.latencyP99Ms} ms, ${s.real.accepted} accepted, ${s.real.non2xx} non-2xx`])
  rows.push(['send route: ratio (target >= 0.85)', s.ratio, ''])
  rows.push(['send route: Redis commands per send', s.redisCommandsPerSend, 'INFO commandstats'])
  rows.push(['send route: Redis CPU per send (µs)', s.redisCpuMicrosPerSend, 'INFO cpu'])
}
if (results.cluster) {
  const c = results.cluster
  rows.push([`cluster (${c.masters} masters) send route (req/s)`, c.real.requestsPerSec, `p99 ${c.real.latencyP99Ms} ms, ${c.real.non2xx} non-2xx`])
  if (c.vsStandalone !== undefined) rows.push(['cluster vs standalone (target >= 0.6)', c.vsStandalone, ''])
  rows.push(['cluster: Redis commands per send', c.redisCommandsPerSend, 'summed over masters'])
  rows.push(['cluster: Redis CPU per send (µs)', c.redisCpuMicrosPerSend, 'summed over masters'])
  const e = c.capacityEstimate
  rows.push(['cluster: sends/s on own cores, 3/6/12 masters', `${e.masters3} / ${e.masters6} / ${e.masters12}`, `${e.perMasterCore} per master core`])
}
if (results.sender) for (const [k, v] of Object.entries(results.sender)) if (k !== 'targets') rows.push([`sender: ${k}`, v, results.sender.targets[k] ? `target ${results.sender.targets[k]}` : ''])
const width = Math.max(...rows.map((r) => r[0].length))
console.log(`\n${'measure'.padEnd(width)} | value | note`)
console.log(`${'-'.repeat(width)}-|-------|-----`)
for (const [k, v, note] of rows) console.log(`${k.padEnd(width)} | ${v} | ${note}`)
mkdirSync('bench/results', { recursive: true })
writeFileSync('bench/results/latest.json', JSON.stringify({ at: new Date().toISOString(), seconds: SECONDS, ...results }, null, 2))
console.log('\nwritten bench/results/latest.json')
writeBenchReadme(rows)
console.log('written bench/README.md')
process.exit(0) // a client of a stopped server may still be retrying its connection

/** bench/README.md is the template with this run's table: figures are never edited by hand. */
function writeBenchReadme(rows) {
  const escape = (v) => String(v).replaceAll('|', '\\|')
  const table = ['| measure | value | note |', '| --- | --- | --- |', ...rows.map(([k, v, note]) => `| ${escape(k)} | ${escape(v)} | ${escape(note)} |`)].join('\n')
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`
  const text = readFileSync('bench/README.template.md', 'utf8')
    .replace('{{at}}', new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC')
    .replace('{{machine}}', machine)
    .replace('{{table}}', table)
  writeFileSync('bench/README.md', text)
}
