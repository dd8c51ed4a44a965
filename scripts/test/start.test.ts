import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, repoRoot, startRedis, waitFor } from '@sms-verify/testing'

interface Started { output: () => string, stdout: () => string, stderr: () => string, exited: Promise<number | string>, signal(s: NodeJS.Signals): void }

/** `node scripts/start.mjs` from `cwd` (where it looks for .env), with only `env` and PATH. */
function start(env: Record<string, string>, cwd: string): Started {
  const child = spawn(process.execPath, [join(repoRoot, 'scripts/start.mjs')], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  let both = ''
  child.stdout.on('data', (c: Buffer) => { out += c; both += c })
  child.stderr.on('data', (c: Buffer) => { err += c; both += c })
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)))
  t.teardown(async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGINT'); await exited } })
  return { output: () => both, stdout: () => out, stderr: () => err, exited, signal: (s) => child.kill(s) }
}

const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-start-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('pnpm start: the next steps only once all listen, the printed curl works, the code line, Ctrl-C exits 0', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.stop())
  const [port, webPort, metricsPort] = await Promise.all([freePort(), freePort(), freePort()])
  const dir = tempDir()
  // .env fills what the shell leaves unset; the shell wins where both say something.
  writeFileSync(join(dir, '.env'), `# local settings\nCODE_TTL_SECONDS=120\nexport PORT=1\nRESEND_INTERVAL_SECONDS="7"\n`)
  const run = start({ REDIS_URL: redis.url, PORT: String(port), WEB_PORT: String(webPort), METRICS_PORT: String(metricsPort), LOG_FORMAT: 'pretty', NO_COLOR: '1' }, dir)

  const banner = await waitFor(() => /^ +(curl -s -XPOST (\S+) -H '([^']+)' -d '([^']+)')$/m.exec(run.stdout()), { timeout: 90_000, what: `the next steps; output so far:\n${run.output()}` })
  const out = run.output()
  t.match(out, /read 2 settings from \.env/, 'the two settings the shell did not set came from .env')
  const readyAt = out.indexOf('Next steps')
  for (const listening of ['api listening', 'sender started', 'web listening']) {
    t.ok(out.indexOf(listening) >= 0 && out.indexOf(listening) < readyAt, `"${listening}" comes before the next steps`)
  }
  t.match(out, new RegExp(`http://127\\.0\\.0\\.1:${port}/docs`), 'the docs address')
  t.match(out, new RegExp(`http://127\\.0\\.0\\.1:${webPort}\\b`), 'the page address')
  t.notMatch(out, /^\s+at /m, 'no stack trace')

  // What the banner prints, done as curl would.
  const [, , url, header, body] = banner
  const [hName, hValue] = header!.split(/:\s*/) as [string, string]
  const sent = await fetch(url!, { method: 'POST', headers: { [hName]: hValue }, body })
  t.equal(sent.status, 202)
  const answer = await sent.json() as { requestId: string, expiresIn: number, resendIn: number }
  t.match(answer, { expiresIn: 120, resendIn: 7 }, 'CODE_TTL_SECONDS and RESEND_INTERVAL_SECONDS came from .env')

  const codeLine = await waitFor(() => new RegExp(`SMS code (\\d{6}) +for 138\\*{4}5678 \\(register, valid 2 min, request ${answer.requestId}\\)`).exec(run.stdout()),
    { timeout: 30_000, what: 'the console code line' })
  const verified = await fetch(url!.replace(/sms-codes$/, 'sms-codes/verify'), { method: 'POST', headers: { [hName]: hValue }, body: JSON.stringify({ ...JSON.parse(body!), code: codeLine[1] }) })
  t.same(await verified.json(), { verified: true }, 'the code on that line verifies')

  run.signal('SIGINT')
  t.equal(await run.exited, 0, 'Ctrl-C exits 0')
  t.match(run.output(), /stopped\n$/)
  t.notMatch(run.output(), /exited unexpectedly/)
})

t.test('a taken port is one line naming the variable to change', async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.stop())
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => blocker.close(() => resolve())))
  const busy = (blocker.address() as { port: number }).port
  const dir = tempDir()
  for (const variable of ['PORT', 'WEB_PORT', 'METRICS_PORT']) {
    const [a, b, c] = await Promise.all([freePort(), freePort(), freePort()])
    const env: Record<string, string> = { REDIS_URL: redis.url, PORT: String(a), WEB_PORT: String(b), METRICS_PORT: String(c), LOG_FORMAT: 'pretty', NO_COLOR: '1' }
    env[variable] = String(busy)
    const run = start(env, dir)
    t.equal(await run.exited, 1, `${variable}: exits 1`)
    const lines = run.output().split('\n').filter(Boolean)
    t.equal(lines.length, 1, `${variable}: one line:\n${run.output()}`)
    t.match(lines[0], new RegExp(`port ${busy} on 127\\.0\\.0\\.1 is taken: set ${variable} to a free port`))
  }
})

const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0
const hasPnpm = spawnSync('pnpm', ['--version'], { stdio: 'ignore' }).status === 0
t.test('Ctrl-C on a terminal: `pnpm start` exits 0 without an ELIFECYCLE line', { skip: hasScript && hasPnpm ? false : 'needs util-linux `script` and pnpm' }, async (t) => {
  const redis = await startRedis()
  t.teardown(() => redis.stop())
  const [port, webPort, metricsPort] = await Promise.all([freePort(), freePort(), freePort()])
  // `script` gives pnpm a real terminal; a \x03 written to it is a Ctrl-C, a SIGINT to pnpm, its shell and start.mjs at once.
  // `exec`: script's own sh -c would otherwise die of that SIGINT, as an interactive shell does not.
  const child = spawn('script', ['-qfec', 'exec pnpm start', '/dev/null'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', REDIS_URL: redis.url, PORT: String(port), WEB_PORT: String(webPort), METRICS_PORT: String(metricsPort), NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (c: Buffer) => { output += c })
  child.stderr.on('data', (c: Buffer) => { output += c })
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)))
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  await waitFor(() => output.includes('Next steps'), { timeout: 90_000, what: `the next steps; output so far:\n${output}` })
  t.match(output, /\d\d:\d\d:\d\d api +info +api listening/, 'a terminal gets the readable form')
  child.stdin.write('\x03')
  t.equal(await exited, 0, `exit 0:\n${output.slice(-800)}`)
  t.match(output, /start +stopped/)
  t.notMatch(output, /ELIFECYCLE|Command failed/)
})
