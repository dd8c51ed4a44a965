import t from 'tap'
import { execFile, spawnSync } from 'node:child_process'
import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort, repoRoot, runNode, startRedis } from '@sms-verify/testing'

const run = promisify(execFile)
// Dev-only packages that must never reach the runtime image. @types/* is reported, not refused:
// the Aliyun SDK (@alicloud/*) lists @types/node among its own production dependencies.
const DEV_ONLY = [/^typescript@/, /^tap@/, /^@tapjs\+/, /^playwright-core@/, /^bullmq@/, /^autocannon@/, /^@sms-verify\+testing@/]

/** Bytes under `dir`: every file counted (`naive`), and each hard-linked file once (`linked`). */
function sizeOf(dir: string, seen = new Set<number>(), acc = { naive: 0, linked: 0 }) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) sizeOf(path, seen, acc)
    else if (entry.isFile()) {
      const s = lstatSync(path)
      acc.naive += s.size
      if (!seen.has(s.ino)) acc.linked += s.size
      seen.add(s.ino)
    }
  }
  return acc
}
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`

if (spawnSync('pnpm', ['--version'], { stdio: 'ignore' }).status !== 0) {
  t.skip('pnpm is not on PATH: the production install step needs it', () => {})
} else {
  t.test("the Docker image's production install: no dev-only package, and every process starts from it", async (t) => {
    const out = mkdtempSync(join(tmpdir(), 'sms-image-'))
    t.teardown(() => rmSync(out, { recursive: true, force: true }))
    // The very step the Dockerfile runs, after the install and build that `pnpm test` did.
    await run('sh', ['scripts/deploy-prod.sh', out], { cwd: repoRoot, env: process.env })
    const apps = join(out, 'apps')
    t.same(readdirSync(apps).sort(), ['api', 'cli', 'sender', 'web'])

    for (const app of ['api', 'sender', 'cli']) {
      const installed = readdirSync(join(apps, app, 'node_modules', '.pnpm'))
      t.same(installed.filter((name) => DEV_ONLY.some((re) => re.test(name))), [], `${app}: no dev-only package`)
      t.ok(installed.some((name) => name.startsWith('ioredis@')), `${app}: its production dependencies are there`)
      const types = installed.filter((name) => name.startsWith('@types+'))
      if (types.length > 0) t.comment(`${app}: type packages pulled in by production dependencies: ${types.join(', ')}`)
      t.same(readdirSync(join(apps, app)).filter((f) => ['src', 'test', 'tsconfig.json'].includes(f)), [], `${app}: no sources or tests`)
    }
    const size = sizeOf(out)
    const perApp = Object.fromEntries(['api', 'sender', 'cli', 'web'].map((app) => [app, mb(sizeOf(join(apps, app)).naive)]))
    t.comment(`runtime files: ${mb(size.linked)} with hard links counted once (${mb(size.naive)} if copied without them); per process: ${JSON.stringify(perApp)}`)

    // The processes start from that folder alone: nothing above it has a node_modules to fall back on.
    const redis = await startRedis()
    t.teardown(() => redis.stop())
    const [port, metricsPort, webPort] = await Promise.all([freePort(), freePort(), freePort()])
    const env = { REDIS_URL: redis.url, CODE_PEPPER: 'image-test-pepper-image-test-pepper', LOG_LEVEL: 'info' }
    const api = runNode(join(apps, 'api/dist/main.js'), { ...env, PORT: String(port) })
    const sender = runNode(join(apps, 'sender/dist/main.js'), { ...env, METRICS_PORT: String(metricsPort) })
    const web = runNode(join(apps, 'web/serve.mjs'), { WEB_PORT: String(webPort) })
    t.teardown(() => Promise.all([api, sender, web].map((p) => p.kill('SIGKILL'))))
    await api.waitForLine((l) => l.msg === 'api listening', 30_000)
    await sender.waitForLine((l) => l.msg === 'sender started', 30_000)
    await web.waitForLine((l) => l.msg === 'web listening', 30_000)
    const sent = await fetch(`http://127.0.0.1:${port}/v1/sms-codes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"mobile":"13812345678","purpose":"register"}' })
    t.equal(sent.status, 202, 'the API from the runtime folder queues a code')
    await sender.waitForLine((l) => /console provider/.test(String(l.msg)), 30_000)
    t.equal((await fetch(`http://127.0.0.1:${webPort}/`)).status, 200, 'the page serves')
    const cli = runNode(join(apps, 'cli/dist/main.js'), env, ['stats', '--json'])
    t.equal(await cli.exited, 0, `the CLI runs: ${cli.output()}`)
    t.equal(await api.kill('SIGTERM'), 0)
    t.equal(await sender.kill('SIGTERM'), 0)
  })
}
