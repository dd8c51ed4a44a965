// One drain in a process of its own, so neither consumer runs on code the JIT shaped for the
// other (both use ioredis): a warm-up drain of `warm` jobs, then the measured drain of `jobs`,
// whose figures (with the drain's time window) it prints as one JSON line. sender.mjs runs it,
// and profile.mjs under --cpu-prof; usage: node drain-child.mjs sender|bullmq|ceiling redisUrl jobs warm [latencyMs]
import { BENCH_CONCURRENCY, drainBullmq, drainSender } from './sender.mjs'
import { drainCeiling } from './sender-ceiling.mjs'

const [kind, url, jobs, warm, latencyMs = '0'] = process.argv.slice(2)
const port = Number(new URL(url).port)
const drain = {
  sender: (n) => drainSender(url, { jobs: n, concurrency: BENCH_CONCURRENCY, latencyMs: Number(latencyMs) }),
  bullmq: (n) => drainBullmq(port, { jobs: n, concurrency: BENCH_CONCURRENCY }),
  ceiling: (n) => drainCeiling(url, { jobs: n }),
}[kind]
if (!drain) throw new Error(`drain-child: unknown kind ${kind}`)
if (Number(warm) > 0) await drain(Number(warm))
console.log(JSON.stringify(await drain(Number(jobs))))
process.exit(0)
