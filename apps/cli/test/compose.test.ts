import t from 'tap'
import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'
import { repoRoot } from '@sms-verify/testing'

const run = promisify(execFile)
// Debian's docker-compose (v1), else `docker compose` (v2) when the docker CLI has the compose plugin:
// a docker CLI without the plugin (as on this machine) cannot validate anything.
const candidates: Array<[string, string[]]> = [['docker-compose', []], ['docker', ['compose']]]
const found = candidates.find(([cmd, pre]) => spawnSync(cmd, [...pre, 'version'], { stdio: 'ignore' }).status === 0)
const [compose, base] = found ?? [undefined, []]

if (!compose) {
  t.skip('neither docker-compose nor the docker compose plugin is installed: install docker-compose (.ci/run does) to validate docker-compose.yml', () => {})
} else {
  // The file requires the deployment secrets: validation runs with them, as a deployment would.
  const secrets = { CODE_PEPPER: 'c'.repeat(44), JOB_SEAL_KEY: `${'k'.repeat(43)}=` }
  const config = (...args: string[]) => run(compose, [...base, ...args], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...secrets } })

  t.test('docker-compose.yml is valid', async (t) => {
    await t.resolves(config('config', '-q'))
    const { stdout } = await config('config')
    for (const s of ['redis:', 'api:', 'sender:', 'web:']) t.match(stdout, new RegExp(`^  ${s}`, 'm'), `service ${s}`)
    t.match(stdout, /appendonly/)
    t.match(stdout, /replicas: 2/)
  })

  t.test('without CODE_PEPPER or JOB_SEAL_KEY, compose refuses and names the variable', async (t) => {
    for (const missing of ['CODE_PEPPER', 'JOB_SEAL_KEY'] as const) {
      const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...secrets }
      delete env[missing]
      const err = await run(compose, [...base, 'config', '-q'], { cwd: repoRoot, env }).then(() => undefined, (e: { stderr: string }) => e)
      t.ok(err, `refused without ${missing}`)
      t.match(err?.stderr ?? '', new RegExp(`${missing}.*openssl rand -base64 32`))
    }
  })

  t.test('the API serves /metrics on its own unpublished port', async (t) => {
    const { stdout } = await config('config')
    t.match(stdout, /API_METRICS_PORT: ['"]?9465/)
    t.notMatch(stdout, /published: ['"]?9465|- ['"]?(\d+:)?9465:/, 'the metrics port is not published')
  })

  t.test('the cluster profile is valid and points its processes at the cluster', async (t) => {
    await t.resolves(config('--profile', 'cluster', 'config', '-q'))
    const { stdout } = await config('--profile', 'cluster', 'config')
    for (let i = 1; i <= 6; i++) t.match(stdout, new RegExp(`^  redis-node-${i}:`, 'm'))
    t.match(stdout, /--cluster-replicas 1 --cluster-yes/)
    t.match(stdout, /REDIS_CLUSTER_NODES: redis-node-1:6379,/)
  })
}
