// Runs a server as its own process (so the load generator does not share its event loop)
// and drives one of its routes with autocannon, a fresh request body per request.
import autocannon from 'autocannon'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { closeSync, openSync } from 'node:fs'
import { connect } from 'node:net'
import { freePort } from '@sms-verify/testing/dist'

const STARTUP_DEADLINE_MS = 30_000

const portAnswers = (port) => new Promise((resolve) => {
  const socket = connect(port, '127.0.0.1')
  socket.once('connect', () => { socket.destroy(); resolve(true) })
  socket.once('error', () => resolve(false))
})

/**
 * Starts `node [nodeArgs] script` with exactly `env` (plus PATH) and waits until its port accepts.
 * Its stdout (the request log at LOG_LEVEL=info) goes to /dev/null: the server pays for
 * writing each line, as it would into a log pipe, and the bench process does not read them.
 */
export async function startServer(script, env, nodeArgs = []) {
  const devNull = openSync('/dev/null', 'w')
  const child = spawn(process.execPath, [...nodeArgs, script], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', devNull, 'inherit'] })
  closeSync(devNull) // the child holds its own copy
  let exited = null
  child.once('exit', (code) => { exited = code })
  const deadline = Date.now() + STARTUP_DEADLINE_MS
  while (!(await portAnswers(Number(env.PORT)))) {
    if (exited !== null) throw new Error(`${script} exited ${exited} before listening`)
    if (Date.now() > deadline) throw new Error(`${script} did not listen on ${env.PORT} within ${STARTUP_DEADLINE_MS} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}

/** Starts `peer` (its script and env) on an emptied Redis, runs `use(server, port)`, and stops it. */
export async function withServer(peer, redisUrl, admin, use) {
  await admin.flushall('SYNC')
  const port = await freePort()
  const server = await startServer(peer.script, { ...peer.env, REDIS_URL: redisUrl, PORT: String(port) })
  try {
    return await use(server, port)
  } finally {
    await server.stop()
  }
}

let mobileCounter = 0
/** a valid, fresh mainland mobile: a 3-digit prefix + 8 digits */
export const nextMobile = (prefix) => `${prefix}${String(mobileCounter++ % 100_000_000).padStart(8, '0')}`

const HEADERS = { 'content-type': 'application/json', host: '127.0.0.1', origin: 'http://127.0.0.1:8080' }

/**
 * POSTs `body()` to `path` over 64 connections, for `seconds` or, when `amount` is given,
 * for exactly that many requests (a verify load has one right code per request).
 */
export async function load({ port, path, body, seconds, amount, connections = 64 }) {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    method: 'POST',
    connections,
    ...(amount === undefined ? { duration: seconds } : { amount }),
    headers: HEADERS,
    requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify(body()) }) }],
  })
  const answered = Object.entries(result.statusCodeStats ?? {})
    .filter(([status]) => status.startsWith('2'))
    .reduce((sum, [, s]) => sum + s.count, 0)
  return {
    // total over elapsed time: a run of `amount` requests ends inside a second, which a per-second average would count as a slow second
    requestsPerSec: Math.round(result.requests.total / result.duration),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    total: result.requests.total,
    accepted: answered,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  }
}
