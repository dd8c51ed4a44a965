import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { waitFor } from '@sms-verify/testing'

// The API and the sender log to a buffered stdout (shared bufferedStdout): lines gather and go
// out together. A line must still reach stdout while the process runs on, and the buffer must
// reach it when the process ends, by process.exit or by an uncaught error.
const logger = new URL('../dist/logger.js', import.meta.url).href

/** Runs `body` after creating the API's logger, in a child the test stops even when it fails. */
function run(t: { teardown(fn: () => unknown): void }, body: string) {
  const child = spawn(process.execPath, ['--input-type=module', '-e',
    `import { createApiLogger } from ${JSON.stringify(logger)}\nconst log = createApiLogger('info')\n${body}`], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { child.kill('SIGKILL') })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { output: () => out, exited }
}

const lines = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string })

t.test('a line reaches stdout while the process runs on', async (t) => {
  const { output } = run(t, `log.info('still running'); setInterval(() => {}, 1000)`)
  await waitFor(() => output().includes('still running'), { what: 'the periodic flush' })
  t.same(lines(output()).map((l) => l.msg), ['still running'])
})

t.test('the buffer is written when the process exits', async (t) => {
  const { output, exited } = run(t, `for (let i = 0; i < 3; i++) log.info('line ' + i); process.exit(0)`)
  t.equal(await exited, 0)
  t.same(lines(output()).map((l) => l.msg), ['line 0', 'line 1', 'line 2'])
})

t.test('the buffer is written when an uncaught error ends the process', async (t) => {
  const { output, exited } = run(t, `log.info('before the crash'); setImmediate(() => { throw new Error('boom') })`)
  t.equal(await exited, 1)
  t.same(lines(output()).map((l) => l.msg), ['before the crash'])
})

// The 4 KB writes happen on the event loop, not in libuv's thread pool: the hand-off cost about
// 4 µs a line more (bench/README.md). The child's pool has one thread, held by an open() of a
// FIFO that no one writes to, so only writes made on the event loop can reach the file.
t.test('full buffers are written on the event loop, not in the thread pool', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-log-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const fifo = join(dir, 'fifo')
  t.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo')
  const file = join(dir, 'stdout')
  const fd = openSync(file, 'w')
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import { closeSync, fstatSync, open, openSync } from 'node:fs'
    import { createApiLogger } from ${JSON.stringify(logger)}
    open(${JSON.stringify(fifo)}, 'r', () => {})
    // Node joins the pool's threads as it exits: let the held one go first, however the child ends
    process.on('exit', () => closeSync(openSync(${JSON.stringify(fifo)}, 'w')))
    const log = createApiLogger('info')
    for (let i = 0; i < 60; i++) log.info({ n: i, pad: 'x'.repeat(100) }, 'line')
    process.stderr.write(String(fstatSync(1).size))
    process.exit(0)`], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', env: { ...process.env, UV_THREADPOOL_SIZE: '1' }, timeout: 20_000, killSignal: 'SIGKILL' })
  closeSync(fd)
  t.equal(child.status, 0, child.stderr)
  t.ok(Number(child.stderr) >= 4096, `full buffers written while the pool was held (${child.stderr} bytes)`)
  t.equal(lines(readFileSync(file, 'utf8')).length, 60, 'every line reached the file by the exit')
})
