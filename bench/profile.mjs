// Where the time goes: runs the real API under the send (or verify) load, or the real Sender
// draining queued jobs, with --cpu-prof, then prints the self time per request (or job) by
// where the code lives (the API, shared, each dependency, Node itself) and by function, and
// Redis's INFO commandstats per request.
// usage: pnpm build && node bench/profile.mjs [send|verify] [seconds] | sender [jobs]; TOP=n lists n functions (25)
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { freePort, startRedis } from '@sms-verify/testing/dist'
import { commandCalls } from './cpu.mjs'
import { load, nextMobile, startServer } from './http.mjs'
import { JOB_SEAL_KEY, apiEnv, sendPeers } from './http-peers.mjs'
import { queuedCodes } from './verify-codes.mjs'

const route = process.argv[2] ?? 'send'
const seconds = Number(process.argv[3] ?? 10)
const senderJobs = Number(process.argv[3] ?? 50_000)
const unit = route === 'sender' ? 'job' : 'request'
const TOP = Number(process.env.TOP ?? 25)
const nowMicros = () => Number(process.hrtime.bigint() / 1000n)

/**
 * Self time per function and per place, in ms, from a .cpuprofile, counting only the samples
 * taken within `window` (µs of CLOCK_MONOTONIC, the clock of V8's sample timestamps and of
 * process.hrtime in every process on the machine), so start-up and warm-up stay out.
 */
function selfTimes(profile, window) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfUs = new Map()
  let at = profile.startTime
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0
    if (at >= window.from && at <= window.to) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  const functions = new Map()
  const places = new Map()
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame
    if (functionName === '(idle)') continue // waiting, not CPU
    const name = `${functionName || '(anonymous)'} ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`
    functions.set(name, (functions.get(name) ?? 0) + us / 1000)
    places.set(placeOf(functionName, url), (places.get(placeOf(functionName, url)) ?? 0) + us / 1000)
  }
  return { functions, places }
}

const shortUrl = (url) => url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\/\.pnpm\/[^/]+\/node_modules\//, '').replace(/^.*\/(apps|packages)\//, '$1/')

function placeOf(functionName, url) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)' // (garbage collector), (idle), (program)
  if (url.startsWith('node:')) return 'node internals'
  const dep = /\/node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (dep) return dep[1]
  const own = /\/(apps\/[^/]+|packages\/[^/]+)\//.exec(url)
  return own ? own[1] : url
}

function printTop(title, map, requests, limit) {
  const total = [...map.values()].reduce((a, b) => a + b, 0)
  console.log(`\n${title} (self time; ${requests} ${unit}s; ${total.toFixed(0)} ms sampled)`)
  for (const [name, ms] of [...map].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
    console.log(`${((ms * 1000) / requests).toFixed(1).padStart(8)} µs/${unit} ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${name}`)
  }
}

const redis = await startRedis()
const admin = redis.client()
const dir = mkdtempSync(join(tmpdir(), 'sms-profile-'))
const send = sendPeers.find((p) => p.id === 'api')
const profiled = ['--cpu-prof', '--cpu-prof-dir', dir]
/** Starts the API (profiled or not), runs `use(port)`, and stops it: the profile is written as it exits. */
async function withApi(nodeArgs, use) {
  const port = await freePort()
  const api = await startServer(send.script, apiEnv({ REDIS_URL: redis.url, PORT: String(port) }), nodeArgs)
  try {
    return await use(port)
  } finally {
    await api.stop()
  }
}

const sendLoad = (port, options) => load({ port, path: send.path, body: () => send.body(nextMobile(send.prefix)), ...options })
async function measuredLoad(run) {
  await admin.config('RESETSTAT')
  const from = nowMicros()
  const measured = await run()
  return { measured, window: { from, to: nowMicros() } }
}
/**
 * The Sender drains in a child process of its own, profiled, twice (drain-child.mjs): the first
 * drain warms the JIT up, and the window counted is the second drain alone.
 */
async function profileSender() {
  const child = fileURLToPath(new URL('drain-child.mjs', import.meta.url))
  const jobs = String(senderJobs)
  const { stdout } = await promisify(execFile)(process.execPath, [...profiled, child, 'sender', redis.url, jobs, jobs], { maxBuffer: 1 << 20 })
  const drained = JSON.parse(stdout.trim().split('\n').at(-1))
  const measured = { total: drained.jobs, accepted: drained.jobs, requestsPerSec: Math.round(drained.jobsPerSecond) }
  return { measured, window: drained.window }
}

try {
  let loads
  if (route === 'sender') {
    loads = await profileSender()
  } else if (route === 'verify') {
    // The codes come from an API process that is not profiled, so the profile holds verifies only.
    await withApi([], (port) => sendLoad(port, { seconds: seconds + 2 }))
    const codes = await queuedCodes(admin, Buffer.from(JOB_SEAL_KEY, 'base64'), 300_000)
    const warm = Math.floor(codes.length / 6)
    let next = 0
    loads = await withApi(profiled, async (port) => {
      const verifyLoad = (amount) => load({ port, path: '/v1/sms-codes/verify', body: () => codes[next++], amount })
      await verifyLoad(warm)
      return measuredLoad(() => verifyLoad(codes.length - warm))
    })
  } else {
    loads = await withApi(profiled, async (port) => {
      await sendLoad(port, { seconds: 2 })
      return measuredLoad(() => sendLoad(port, { seconds }))
    })
  }
  const calls = await commandCalls(admin)
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
  if (!file) throw new Error('no .cpuprofile written: did the process exit through process.exit?')
  const { measured, window } = loads
  const { functions, places } = selfTimes(JSON.parse(readFileSync(join(dir, file), 'utf8')), window)
  const served = measured.total
  const p99 = route === 'sender' ? '' : `, p99 ${measured.latencyP99Ms} ms`
  console.log(`${route}: ${measured.requestsPerSec} ${unit}s/s, ${measured.accepted} done (2xx) of ${measured.total}${p99}`)
  printTop('by place', places, served, 20)
  printTop('by function', functions, served, TOP)
  console.log(`\nRedis commands per ${unit} (INFO commandstats, measured load or drain only)`)
  for (const [name, n] of Object.entries(calls).sort((a, b) => b[1] - a[1])) console.log(`${(n / Math.max(1, measured.total)).toFixed(2).padStart(8)}  ${name}`)
} finally {
  await redis.stop()
  rmSync(dir, { recursive: true, force: true })
}
process.exit(0)
