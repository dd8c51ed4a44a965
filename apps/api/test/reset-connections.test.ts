import t from 'tap'
import { execFileSync } from 'node:child_process'
import { connect } from 'node:net'
import { freePort, repoRoot, runNode, startRedis, waitFor } from '@sms-verify/testing'

execFileSync(process.execPath, [`${repoRoot}node_modules/typescript/bin/tsc`, '-b', 'apps/api'], { cwd: repoRoot, stdio: 'inherit' })

/** Writes one whole send request and resets the connection at once, without reading a byte. */
function sendAndReset(port: number, mobile: string): Promise<void> {
  const body = JSON.stringify({ mobile, purpose: 'register' })
  const request = `POST /v1/sms-codes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' })
    socket.once('error', reject)
    socket.once('connect', () => socket.write(request, () => {
      socket.resetAndDestroy()
      resolve()
    }))
  })
}

t.test('sends whose connection was reset are never 5xx and count only against their own address', async (t) => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = server.client()
  const port = await freePort()
  const api = runNode('apps/api/dist/main.js', {
    REDIS_URL: server.url, PORT: String(port), CODE_PEPPER: 'reset-test-pepper', SEND_LIMIT_PER_IP_PER_HOUR: '20', RESEND_INTERVAL_SECONDS: '0',
  })
  t.teardown(() => api.kill('SIGKILL'))
  await api.waitForLine((l) => l.msg === 'api listening', 30_000)

  const mobiles = Array.from({ length: 40 }, (_, i) => `1390000${String(i).padStart(4, '0')}`)
  for (let round = 0; round < 4; round++) await Promise.all(mobiles.slice(round * 10, round * 10 + 10).map((m) => sendAndReset(port, m)))
  // A request on a live connection, answered: the server has read everything sent before it.
  const probe = await fetch(`http://127.0.0.1:${port}/v1/sms-codes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mobile: '13900009999', purpose: 'login' }) })
  t.ok([202, 429].includes(probe.status), `a live client is answered (${probe.status})`)
  const completed = () => api.lines.filter((l) => l.msg === 'request completed' && (l.req as { url?: string } | undefined)?.url === '/v1/sms-codes')
  // Requests read before the probe have been handled once nothing moves any more between two polls.
  let last = ''
  await waitFor(async () => {
    const now = `${await redis.xlen('sms:jobs')}/${completed().length}`
    const settled = now === last
    last = now
    return settled
  }, { interval: 250, what: 'the reset requests to be handled' })
  const handled = completed()
  const queued = await redis.xlen('sms:jobs')
  // Each reset request is either refused for want of an address (400 client_unknown, logged) or
  // handled under the address captured when it connected (its connection is gone, so Fastify
  // writes no access line for it, but its job is queued).
  t.ok(handled.length + queued > 1, `reset requests reached the API (${handled.length} refused or answered, ${queued} queued)`)
  t.ok(handled.every((l) => (l.res as { statusCode: number }).statusCode < 500), 'none answered 5xx')
  const errorLines = api.lines.filter((l) => typeof l.level === 'number' && l.level >= 50)
  t.same(errorLines, [], 'no error-level lines')
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  t.notMatch(metrics, /status="5\d\d"/, 'no 5xx in the metrics')

  const keys = await redis.keys('*')
  t.notOk(keys.some((k) => k.includes('undefined')), `no key for an unknown address: ${keys.filter((k) => k.includes('undefined')).join(' ')}`)
  t.same(keys.filter((k) => k.startsWith('sms:ip:')), ['sms:ip:127.0.0.1:sends'], 'every send counted against the real address')
  t.equal(await redis.zcard('sms:ip:127.0.0.1:sends'), queued, 'each queued job is counted there')
  t.ok(queued <= 20, `at most SEND_LIMIT_PER_IP_PER_HOUR queued (${queued})`)
  t.equal(await api.kill('SIGTERM'), 0)
})
