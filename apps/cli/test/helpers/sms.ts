import { runNode, type RunningProcess } from '@sms-verify/testing'
import { allPartitions, encodeDeadLetter, encodeJob, newRequestId, recordOf, type Job, type Partition } from '@sms-verify/shared'

export interface SmsResult {
  code: number | string
  /** the first JSON line the command printed (its --json answer) */
  json: Record<string, unknown>
  /** every output line, parsed where JSON */
  lines: Array<Record<string, unknown>>
  output: string
}

/** Runs the built CLI as a real process and waits for it to exit. */
export async function sms(env: Record<string, string>, ...args: string[]): Promise<SmsResult> {
  const proc = runNode('apps/cli/dist/main.js', env, args)
  const code = await proc.exited
  const json = proc.lines.find((l) => !('msg' in l && Object.keys(l).length === 1)) ?? {}
  return { code, json, lines: proc.lines, output: proc.output() }
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
