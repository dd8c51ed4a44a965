import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { freePort } from './free-port.js'
import { reapOnExit } from './reaper.js'
import { waitFor } from './wait-for.js'

export interface RedisServer {
  readonly port: number
  readonly url: string
  readonly dir: string
  /** a plain client for assertions (no scripts, no auto-pipelining) */
  client(): Redis
  /** SIGKILL the server; `start()` brings it back on the same port (empty unless appendonly). */
  kill(): Promise<void>
  start(): Promise<void>
  stop(): Promise<void>
}

/**
 * A throwaway redis-server on a free port, its files in a temporary folder.
 * Register `stop` in teardown: it is idempotent and runs when a test fails.
 */
export async function startRedis({ args = [] as string[] } = {}): Promise<RedisServer> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'sms-redis-'))
  let proc: ChildProcess | undefined
  const clients: Redis[] = []

  let starting: Promise<void> | undefined
  const boot = async () => {
    proc = reapOnExit(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...args], { stdio: 'ignore' }))
    const probe = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    probe.on('error', () => undefined) // refused until the server listens: that is what the poll waits out
    await waitFor(async () => {
      await probe.connect().catch(() => undefined)
      return (await probe.ping()) === 'PONG'
    }, { timeout: 10_000, what: `redis-server on ${port}` }).finally(() => probe.disconnect())
  }
  // A test may restart the server from a timer and finish before the restart's probe has seen it up
  // (its own clients reconnect first). Killing it then would leave that probe polling a dead port until
  // it times out and rejects after the test is over: kill and stop wait for a start in flight instead.
  const start = () => (starting ??= boot().finally(() => { starting = undefined }))
  const kill = async () => {
    await starting?.catch(() => undefined)
    const p = proc
    proc = undefined
    if (!p || p.exitCode !== null) return
    await new Promise<void>((resolve) => { p.once('exit', () => resolve()); p.kill('SIGKILL') })
  }
  await start()
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    dir,
    client() {
      const c = new Redis({ port, maxRetriesPerRequest: 1 })
      c.on('error', () => undefined) // the server may be killed on purpose; commands still reject
      clients.push(c)
      return c
    },
    kill,
    start,
    async stop() {
      for (const c of clients.splice(0)) c.disconnect()
      await kill()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
