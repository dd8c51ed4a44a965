import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { reapOnExit } from './reaper.js'
import { waitFor } from './wait-for.js'

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))

export interface RunningProcess {
  readonly child: ChildProcess
  /** every log line so far, parsed when it is JSON */
  readonly lines: Array<Record<string, unknown>>
  readonly output: () => string
  waitForLine(match: (line: Record<string, unknown>) => boolean, timeout?: number): Promise<Record<string, unknown>>
  /** resolves with the exit code (or signal name) */
  exited: Promise<number | string>
  kill(signal?: NodeJS.Signals): Promise<number | string>
}

/** Runs `node <script> [...args]` from the repository root with only the given environment added. */
export function runNode(script: string, env: Record<string, string>, args: readonly string[] = []): RunningProcess {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: Array<Record<string, unknown>> = []
  let raw = ''
  let partial = ''
  const onData = (chunk: Buffer) => {
    const text = chunk.toString('utf8')
    raw += text
    partial += text
    const parts = partial.split('\n')
    partial = parts.pop() ?? ''
    for (const line of parts) {
      if (!line.trim()) continue
      try { lines.push(JSON.parse(line)) } catch { lines.push({ msg: line }) }
    }
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  reapOnExit(child)
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)))
  return {
    child,
    lines,
    output: () => raw,
    waitForLine: (match, timeout = 10_000) =>
      waitFor(() => lines.find(match), { timeout, what: `a log line in ${script}; output so far:\n${raw.slice(-2000)}` }),
    exited,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}

export interface ExitResult { code: number | null, stdout: string, stderr: string }

/**
 * Runs `node <script>` to its exit with stdout and stderr apart (for startup refusals), with
 * only the given environment added; rejects if it is still running after `timeoutMs`.
 */
export function runToExit(script: string, env: Record<string, string>, timeoutMs = 15_000): Promise<ExitResult> {
  return new Promise((resolve, reject) => {
    const child = reapOnExit(spawn(process.execPath, [script], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] }))
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString('utf8') })
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8') })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${script} did not exit within ${timeoutMs} ms; stderr so far: ${stderr}`)) }, timeoutMs)
    child.once('error', (err) => { clearTimeout(timer); reject(err) })
    child.once('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}
