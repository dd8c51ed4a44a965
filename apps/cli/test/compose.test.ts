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
  t.skip('neither docker-compose nor the docker compose plugin is installed: install docker-compose (.ci/run does) to validate docker-compose.yml')
} else {
  const config = (...args: string[]) => run(compose, [...base, ...args], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '' } })

  t.test('docker-compose.yml is valid', async (t) => {
    await t.resolves(config('config', '-q'))
    const { stdout } = await config('config')
    for (const s of ['redis:', 'api:', 'sender:', 'web:']) t.match(stdout, new RegExp(`^  ${s}`, 'm'), `service ${s}`)
    t.match(stdout, /appendonly/)
    t.match(stdout, /replicas: 2/)
  })

  t.test('the cluster profile is valid and points its processes at the cluster', async (t) => {
    await t.resolves(config('--profile', 'cluster', 'config', '-q'))
    const { stdout } = await config('--profile', 'cluster', 'config')
    for (let i = 1; i <= 6; i++) t.match(stdout, new RegExp(`^  redis-node-${i}:`, 'm'))
    t.match(stdout, /--cluster-replicas 1 --cluster-yes/)
    t.match(stdout, /REDIS_CLUSTER_NODES: redis-node-1:6379,/)
  })
}
