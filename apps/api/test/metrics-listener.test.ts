import t from 'tap'
import { execFileSync } from 'node:child_process'
import { freePort, repoRoot, runNode, startRedis } from '@sms-verify/testing'

execFileSync(process.execPath, [`${repoRoot}node_modules/typescript/bin/tsc`, '-b', 'apps/api'], { cwd: repoRoot, stdio: 'inherit' })

const server = await startRedis()
t.teardown(() => server.stop())

/** GET with a short deadline; a refused connection is `refused`, not a throw. */
async function get(url: string): Promise<{ status: number, text: string } | 'refused'> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) })
    return { status: res.status, text: await res.text() }
  } catch (err) {
    if (/ECONNREFUSED/.test(String((err as { cause?: unknown }).cause ?? err))) return 'refused'
    throw err
  }
}

async function startApi(env: Record<string, string>) {
  const port = await freePort()
  const api = runNode('apps/api/dist/main.js', { REDIS_URL: server.url, PORT: String(port), LOG_LEVEL: 'info', ...env })
  t.teardown(() => api.kill('SIGKILL'))
  await api.waitForLine((l) => l.msg === 'api listening', 60_000) // a loaded 2-core machine starts node slowly
  return { api, url: `http://127.0.0.1:${port}` }
}

t.test('without API_METRICS_PORT, /metrics stays on the public port (the contract default)', async (t) => {
  const { api, url } = await startApi({})
  const res = await get(`${url}/metrics`)
  t.ok(res !== 'refused' && res.status === 200, 'public /metrics answers')
  t.match(res !== 'refused' ? res.text : '', /sms_api_requests_total/)
  t.notOk(api.lines.some((l) => l.msg === 'metrics listening'), 'no second listener')
  t.equal(await api.kill('SIGTERM'), 0)
})

t.test('with API_METRICS_PORT, /metrics is served only there, bound to METRICS_HOST; the public port says 404', async (t) => {
  const metricsPort = await freePort()
  // 127.0.0.2 is loopback too: binding there proves METRICS_HOST is used, since 127.0.0.1 then refuses
  const { api, url } = await startApi({ API_METRICS_PORT: String(metricsPort), METRICS_HOST: '127.0.0.2' })
  t.match(api.lines.find((l) => l.msg === 'metrics listening'), { host: '127.0.0.2', port: metricsPort })
  await get(`${url}/healthz`)
  const publicMetrics = await get(`${url}/metrics`)
  t.ok(publicMetrics !== 'refused' && publicMetrics.status === 404, 'public /metrics is 404')
  const own = await get(`http://127.0.0.2:${metricsPort}/metrics`)
  t.ok(own !== 'refused' && own.status === 200, 'the metrics listener answers')
  t.match(own !== 'refused' ? own.text : '', /sms_api_requests_total\{method="GET",route="\/healthz",status="200"\} 1/, 'with the public port\'s counters')
  t.equal(await get(`http://127.0.0.1:${metricsPort}/metrics`), 'refused', 'not bound to another address')
  const other = await get(`http://127.0.0.2:${metricsPort}/v1/sms-codes`)
  t.ok(other !== 'refused' && other.status === 404, 'nothing else is served there')
  t.equal(await api.kill('SIGTERM'), 0, 'exits 0, closing both listeners')
})

t.test('a taken API_METRICS_PORT exits non-zero and names the variables', async (t) => {
  const { createServer } = await import('node:net')
  const blocker = createServer()
  const port = await freePort()
  await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve))
  t.teardown(() => blocker.close())
  const api = runNode('apps/api/dist/main.js', { REDIS_URL: server.url, PORT: String(await freePort()), API_METRICS_PORT: String(port) })
  t.not(await api.exited, 0)
  t.match(api.output(), /API_METRICS_PORT/)
})
