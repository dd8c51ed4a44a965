import { spawn } from 'node:child_process'
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
