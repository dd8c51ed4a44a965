// Drives POST /v1/sms-codes with a fresh mobile per request, against a server
// running as its own process, so the load generator does not share its event loop.
import autocannon from 'autocannon'
import { spawn } from 'node:child_process'
import { once } from 'node:events'

export async function startServer(script, env) {
  const child = spawn(process.execPath, [script], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  let buffered = ''
  await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited ${code} before listening`)))
    child.stdout.on('data', function onData(chunk) {
      buffered += chunk
      if (buffered.includes('listening')) {
        child.stdout.off('data', onData)
        child.stdout.resume() // keep draining the request log
        resolve()
      }
    })
  })
  return {
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}

let mobileCounter = 0
/** a valid, fresh mainland mobile per request: 139 + 8 digits */
const nextMobile = (prefix) => `${prefix}${String(mobileCounter++ % 100_000_000).padStart(8, '0')}`

export async function loadSendRoute({ port, seconds = 10, connections = 64, prefix = '139' }) {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/v1/sms-codes`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { 'content-type': 'application/json', host: '127.0.0.1', origin: 'http://127.0.0.1:8080' },
    requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ mobile: nextMobile(prefix), purpose: 'register' }) }) }],
  })
  const accepted = result.statusCodeStats?.['202']?.count ?? 0
  return {
    requestsPerSec: Math.round(result.requests.average),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    total: result.requests.total,
    accepted,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  }
}
