// The child that profile.mjs runs under --cpu-prof: drains `jobs` queued jobs through the
// real Sender (zero-latency provider, concurrency 64) on the Redis at `url`, then prints
// the drain's figures and time window as one JSON line. A first drain of as many jobs warms
// the JIT up; only the second's window is counted. usage: node profile-sender.mjs url jobs
import { drainSender } from './sender.mjs'

const [url, jobs] = process.argv.slice(2)
await drainSender(url, { jobs: Number(jobs), concurrency: 64, latencyMs: 0 })
const drained = await drainSender(url, { jobs: Number(jobs), concurrency: 64, latencyMs: 0 })
console.log(JSON.stringify(drained))
process.exit(0)
