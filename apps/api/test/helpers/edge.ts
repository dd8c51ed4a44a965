import { execFileSync } from 'node:child_process'
import { freePort, repoRoot, runNode, startRedis, waitFor, type RunningProcess } from '@sms-verify/testing'

interface Teardown { teardown(fn: () => unknown): void }

export const ALLOWED_ORIGIN = 'http://localhost:8080'

/** Builds apps/api (a no-op when dist is fresh), so a test file run alone spawns today's code. */
export function buildApi(): void {
  execFileSync(process.execPath, [`${repoRoot}node_modules/typescript/bin/tsc`, '-b', 'apps/api'], { cwd: repoRoot, stdio: 'inherit' })
}

export interface EdgeApi { readonly port: number, readonly proc: RunningProcess }

/**
 * A real API process (apps/api/dist/main.js) on its own redis-server, ready
 * when /readyz answers; both are stopped in teardown. The edge lives in the
 * process's HTTP server (sockets, timeouts, the parser), which inject never reaches.
 */
export async function startApi(t: Teardown, env: Record<string, string> = {}): Promise<EdgeApi> {
  const redis = await startRedis()
  t.teardown(() => redis.stop())
  const port = await freePort()
  const proc = runNode('apps/api/dist/main.js', {
    REDIS_URL: redis.url, PORT: String(port), LOG_LEVEL: 'warn', CODE_PEPPER: 'edge-test-pepper-0123456789abcdef',
    RATE_LIMIT_PER_MINUTE: '100000', SEND_LIMIT_PER_IP_PER_HOUR: '100000', ...env,
  })
  t.teardown(() => proc.kill('SIGKILL'))
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1000) })).status === 200,
    { timeout: 30_000, interval: 100, what: `api on ${port} ready; output:\n${proc.output().slice(-2000)}` })
  return { port, proc }
}

/** A request head with CRLF line ends; `lines` are header lines, the blank line is added. */
export const head = (requestLine: string, ...lines: string[]): string => [requestLine, ...lines, '', ''].join('\r\n')

/** A JSON-looking body of exactly `size` bytes. */
export function paddedBody(size: number): Buffer {
  const open = '{"mobile":"13812345678","purpose":"register","pad":"'
  const close = '"}'
  return Buffer.from(open + 'x'.repeat(size - open.length - close.length) + close)
}

/** `body` as HTTP/1.1 chunks of `size` bytes, with the last-chunk. */
export function chunked(body: Buffer, size = 64 * 1024): Buffer[] {
  const pieces: Buffer[] = []
  for (let i = 0; i < body.length; i += size) {
    const part = body.subarray(i, i + size)
    pieces.push(Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]))
  }
  pieces.push(Buffer.from('0\r\n\r\n'))
  return pieces
}
