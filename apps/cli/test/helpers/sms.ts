import { runNode, type RunningProcess } from '@sms-verify/testing'
import { run } from '../../src/cli.js'
import { allPartitions, encodeDeadLetter, encodeJob, newRequestId, recordOf, type Job, type Partition } from '@sms-verify/shared'

export interface SmsResult {
  code: number | string
  /** the first JSON line the command printed (its --json answer) */
  json: Record<string, unknown>
  /** every output line, parsed where JSON */
  lines: Array<Record<string, unknown>>
  output: string
}

const parsed = (line: string): Record<string, unknown> => {
  try { return JSON.parse(line) as Record<string, unknown> } catch { return { msg: line } }
}

function result(code: number | string, lines: Array<Record<string, unknown>>, output: string): SmsResult {
  const json = lines.find((l) => !('msg' in l && Object.keys(l).length === 1)) ?? {}
  return { code, json, lines, output }
}

/**
 * Runs one command in this process through the CLI's own `run` (what main.ts calls), with
 * exactly `env`: a process per command cost about a second each and made this the suite's
 * slowest file. smsProcess covers what only the process does (help, exit code, piped output).
 */
export async function sms(env: Record<string, string>, ...args: string[]): Promise<SmsResult> {
  const printed: string[] = []
  const code = await run(args, env, { out: (line) => printed.push(line), err: (line) => printed.push(line) })
  const lines = printed.flatMap((l) => l.split('\n')).filter((l) => l !== '')
  return result(code, lines.map(parsed), `${lines.join('\n')}\n`)
}

/** Runs the built CLI as a real process and waits for it to exit. */
export async function smsProcess(env: Record<string, string>, ...args: string[]): Promise<SmsResult> {
  const proc = runNode('apps/cli/dist/main.js', env, args)
  const code = await proc.exited
  return result(code, proc.lines, proc.output())
}

export const startSms = (env: Record<string, string>, ...args: string[]): RunningProcess => runNode('apps/cli/dist/main.js', env, args)

export const partitionsOf = (count: number): Partition[] => allPartitions(count, false)

export function codeJob(p: Partition, mobile: string, extra: Partial<Job> = {}): { requestId: string, fields: string[] } {
  const requestId = newRequestId(p.index)
  const now = Date.now()
  const job = { v: 1, kind: 'code', requestId, mobile, purpose: 'register', code: '987654', createdAt: now, expiresAt: now + 300_000, attempts: 0, ...extra } as Job
  return { requestId, fields: encodeJob(job) }
}

/** A dead letter as the sender writes it (its encoder): its own fields first, then the job's, never a plaintext code. */
export function deadFields(job: { requestId: string, fields: string[] }, reason: string, lastError: string, extra: string[] = []): string[] {
  const f = recordOf<string>(job.fields)
  return encodeDeadLetter({
    requestId: job.requestId, reason, attempts: Number(f.attempts), lastError, failedAt: Date.now(), entryId: '1-0', mobile: f.mobile,
    original: [...job.fields, ...extra],
  })
}
