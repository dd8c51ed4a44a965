import t from 'tap'
import { execFileSync } from 'node:child_process'
import { freePort, repoRoot, runNode, startRedis } from '@sms-verify/testing'

execFileSync(process.execPath, [`${repoRoot}node_modules/typescript/bin/tsc`, '-b', 'apps/api'], { cwd: repoRoot, stdio: 'inherit' })

t.test('the real process serves, and exits 0 on SIGTERM', async (t) => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const port = await freePort()
  const api = runNode('apps/api/dist/main.js', { REDIS_URL: server.url, PORT: String(port), CODE_PEPPER: 'test-pepper' })
  t.teardown(() => api.kill('SIGKILL'))
  const line = await api.waitForLine((l) => l.msg === 'api listening')
  t.equal(line.port, port)
  t.ok(api.lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('JOB_SEAL_KEY is unset')), 'warns about plaintext jobs')
  const res = await fetch(`http://127.0.0.1:${port}/v1/sms-codes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mobile: '13912345678', purpose: 'login' }) })
  t.equal(res.status, 202)
  t.equal(await api.kill('SIGTERM'), 0)
})

t.test('SIGINT exits 0 too', async (t) => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const api = runNode('apps/api/dist/main.js', { REDIS_URL: server.url, PORT: String(await freePort()) })
  t.teardown(() => api.kill('SIGKILL'))
  await api.waitForLine((l) => l.msg === 'api listening')
  t.ok(api.lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('CODE_PEPPER is unset')), 'warns about a random pepper')
  t.equal(await api.kill('SIGINT'), 0)
})

t.test('a bad configuration exits non-zero with one line', async (t) => {
  const api = runNode('apps/api/dist/main.js', { PORT: 'eighty', CODE_LENGTH: '12' })
  const code = await api.exited
  t.not(code, 0)
  const out = api.output().trim()
  t.equal(out.split('\n').length, 1, out)
  t.match(out, /^invalid configuration: .*PORT.*CODE_LENGTH|^invalid configuration: .*CODE_LENGTH.*PORT/)
})
