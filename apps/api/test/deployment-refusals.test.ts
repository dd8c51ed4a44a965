import t from 'tap'
import { execFileSync } from 'node:child_process'
import { freePort, repoRoot, runNode, startRedis, TEST_SECRETS } from '@sms-verify/testing'

// The API and the sender read one configuration: each refuses an unsafe deployment on its own, as a real process.
execFileSync(process.execPath, [`${repoRoot}node_modules/typescript/bin/tsc`, '-b', 'apps/api', 'apps/sender'], { cwd: repoRoot, stdio: 'inherit' })

const processes = [['api', 'apps/api/dist/main.js'], ['sender', 'apps/sender/dist/main.js']] as const

/** Runs the process to its exit; its stderr, apart from stdout. */
async function refused(script: string, env: Record<string, string>) {
  const proc = runNode(script, env)
  let stderr = ''
  proc.child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8') })
  const code = await proc.exited
  return { code, stderr: stderr.trim(), stdout: proc.output().replace(stderr, '').trim() }
}

for (const [name, script] of processes) {
  t.test(`${name}: NODE_ENV=production without secrets exits non-zero with one line naming them`, async (t) => {
    const { code, stderr, stdout } = await refused(script, { NODE_ENV: 'production', CORS_ORIGINS: '*', ALLOWED_HOSTS: '*' })
    t.not(code, 0)
    t.equal(stderr.split('\n').length, 1, stderr)
    t.equal(stdout, '', 'nothing else is printed')
    for (const variable of ['CODE_PEPPER', 'JOB_SEAL_KEY', 'CORS_ORIGINS', 'ALLOWED_HOSTS']) t.match(stderr, variable)
    t.match(stderr, /NODE_ENV=production/)
  })

  t.test(`${name}: REDIS_CLUSTER_NODES counts as a deployment; a short pepper is named, not echoed`, async (t) => {
    const pepper = 'short-pepper-value-1234'
    const { code, stderr } = await refused(script, { REDIS_CLUSTER_NODES: '127.0.0.1:1', CODE_PEPPER: pepper, JOB_SEAL_KEY: TEST_SECRETS.JOB_SEAL_KEY })
    t.not(code, 0)
    t.equal(stderr.split('\n').length, 1, stderr)
    t.match(stderr, /CODE_PEPPER must be at least 32 characters/)
    t.notMatch(stderr, pepper)
    t.notMatch(stderr, /JOB_SEAL_KEY/)
  })

  t.test(`${name}: an invalid secret or Redis password is never echoed`, async (t) => {
    const { code, stderr } = await refused(script, { REDIS_URL: 'tcp://app:hunter2-secret@cache:6379', ADMIN_TOKEN: 'tiny-token', TEST_NUMBERS: '+8613800000000=135790,oops' })
    t.not(code, 0)
    t.equal(stderr.split('\n').length, 1, stderr)
    for (const variable of ['REDIS_URL', 'ADMIN_TOKEN', 'TEST_NUMBERS']) t.match(stderr, variable)
    for (const secret of ['hunter2-secret', 'tiny-token', '135790']) t.notMatch(stderr, secret)
    t.match(stderr, 'tcp://app:***@cache:6379', 'the URL is shown with its password replaced')
  })
}

t.test('with its secrets, a production API starts', async (t) => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const api = runNode('apps/api/dist/main.js', { NODE_ENV: 'production', REDIS_URL: server.url, PORT: String(await freePort()), ...TEST_SECRETS })
  t.teardown(() => api.kill('SIGKILL'))
  await api.waitForLine((l) => l.msg === 'api listening', 60_000) // a loaded 2-core machine starts node slowly
  t.notOk(api.lines.some((l) => l.level === 40 && /unset/.test(String(l.msg))), 'no local-use warning')
  t.equal(await api.kill('SIGTERM'), 0)
})

t.test('pnpm start refuses the same deployment in one line before starting anything', async (t) => {
  const start = runNode('scripts/start.mjs', { NODE_ENV: 'production' })
  t.not(await start.exited, 0)
  const out = start.output()
  t.match(out, /CODE_PEPPER must be set/)
  t.match(out, /JOB_SEAL_KEY must be set/)
  t.notMatch(out, /redis-server|api listening/, 'nothing was started')
})
