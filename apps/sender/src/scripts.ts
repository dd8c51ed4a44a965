import { defineScripts, jobIdOf, type Job, type PartitionKeys, type RedisClient } from '@sms-verify/shared'
import type { Result } from 'ioredis'

/**
 * The sender's Lua scripts (packages/shared/lua/*.lua; each file's header
 * lists its KEYS, ARGV and reply), registered on the sender's connections,
 * and beside each one the builder of its arguments and the decoder of its
 * reply: call sites never count positions.
 * lease, unlease and finish take a batch of jobs of one partition: their one declared
 * key is the partition stream, and the per-job keys (same hash tag, same
 * slot) travel in ARGV. A fixed key count matters in cluster mode: ioredis's
 * auto-pipelining groups a call by its first argument, which must be a key.
 * The batch itself is one JSON argument (an array per job): ioredis's cost is per argument,
 * and seven to fifteen per job made it a tenth of the sender's cost per job.
 */
export const SENDER_SCRIPTS = {
  senderLease: { file: 'lease', numberOfKeys: 1 },
  senderFinish: { file: 'finish', numberOfKeys: 1 },
  senderUnlease: { file: 'unlease', numberOfKeys: 1 },
  senderRetry: { file: 'retry', numberOfKeys: 5 },
  senderDeadLetter: { file: 'dead-letter', numberOfKeys: 6 },
  /** one partition per call (cluster) */
  senderPromote: { file: 'promote', numberOfKeys: 2 },
  /** every partition in one call (standalone only: no slots) */
  senderPromoteAll: { file: 'promote' },
  senderTrim: { file: 'trim', numberOfKeys: 1 },
  senderTrimAll: { file: 'trim' },
  senderForgetConsumers: { file: 'forget-consumers', numberOfKeys: 1 },
} as const

type Arg = string | number
declare module 'ioredis' {
  interface RedisCommander<Context> {
    senderLease(stream: string, ...args: Arg[]): Result<number[], Context>
    senderFinish(stream: string, ...args: Arg[]): Result<number, Context>
    senderUnlease(stream: string, ...args: Arg[]): Result<number, Context>
    senderRetry(...keysAndArgs: Arg[]): Result<number, Context>
    senderDeadLetter(...keysAndArgs: Arg[]): Result<number, Context>
    senderPromote(retries: string, stream: string, ...args: Arg[]): Result<[number, number, number], Context>
    senderPromoteAll(numberOfKeys: number, ...keysAndArgs: Arg[]): Result<[number, number, number], Context>
    senderTrim(stream: string, ...args: Arg[]): Result<number, Context>
    senderTrimAll(numberOfKeys: number, ...keysAndArgs: Arg[]): Result<number, Context>
    senderForgetConsumers(stream: string, ...args: Arg[]): Result<string[], Context>
  }
}

const defined = new WeakSet<object>()

/** Registers the scripts once per client (defineCommand is local: no I/O). */
export function defineSenderScripts(client: RedisClient): RedisClient {
  if (!defined.has(client)) {
    defineScripts(client, SENDER_SCRIPTS)
    defined.add(client)
  }
  return client
}

/**
 * The keys one job goes by: its lease (per job), its request's status record, and its own
 * record, which for a code job is the request's and for a part of a bulk request its own.
 */
export interface JobKeys { readonly lease: string, readonly request: string, readonly job: string }

export function jobKeys(k: PartitionKeys, job: Job): JobKeys {
  const id = jobIdOf(job)
  return { lease: k.lease(id), request: k.request(job.requestId), job: job.kind === 'bulk' ? k.job(id) : k.request(job.requestId) }
}

// ---- lease.lua ---------------------------------------------------------------

export type LeaseVerdict = 'leased' | 'done' | 'stale' | 'busy' | 'expired' | 'exhausted'
const VERDICTS: readonly LeaseVerdict[] = ['leased', 'done', 'stale', 'busy', 'expired', 'exhausted']

export interface LeaseBatch { readonly group: string, readonly now: number, readonly leaseMs: number, readonly maxAttempts: number }
export interface LeaseItem {
  readonly keys: JobKeys, readonly entryId: string, readonly token: string, readonly attempts: number, readonly expiresAt: number
}
/** `base`: provider calls already made or assumed; a leased call may make at most max attempts - base. */
export interface LeaseAnswer { readonly verdict: LeaseVerdict, readonly base: number }

export const leaseScript = {
  args: (b: LeaseBatch, items: readonly LeaseItem[]): Arg[] => [b.group, b.now, b.leaseMs, b.maxAttempts,
    JSON.stringify(items.map((i) => [i.keys.lease, i.keys.request, i.keys.job, i.entryId, i.token, i.attempts, i.expiresAt]))],
  reply: (r: readonly number[]): LeaseAnswer[] => Array.from({ length: r.length / 2 }, (_, i) => {
    const verdict = VERDICTS[r[2 * i]! - 1]
    if (!verdict) throw new Error(`lease.lua answered an unknown verdict ${r[2 * i]}`)
    return { verdict, base: r[2 * i + 1]! }
  }),
}

// ---- unlease.lua -------------------------------------------------------------

export interface UnleaseItem { readonly keys: JobKeys, readonly entryId: string, readonly token: string, readonly base: number }

export const unleaseScript = {
  args: (items: readonly UnleaseItem[]): Arg[] => [JSON.stringify(items.map((i) => [i.keys.lease, i.keys.request, i.keys.job, i.entryId, i.token, i.base]))],
  /** how many leases were given back */
  reply: (r: number): number => Number(r),
}

// ---- finish.lua --------------------------------------------------------------

export interface FinishBatch { readonly group: string, readonly now: number, readonly sentCounter: string, readonly sentCounterTtlMs: number }
export interface FinishItem {
  readonly keys: JobKeys
  /** the provider message id → request mapping ('' with serialMs 0: none) */
  readonly serial: string
  readonly entryId: string
  readonly status: 'sent' | ''
  readonly doneMs: number
  readonly serialMs: number
  readonly requestId: string
  /** per-number results of a bulk job, JSON ('' = none) */
  readonly results: string
  readonly attempts: number
  /** more fields for the request's record (a code job's provider, messageId, fee) */
  readonly fields: Readonly<Record<string, string | number>>
}

export const finishScript = {
  args: (b: FinishBatch, items: readonly FinishItem[]): Arg[] => [b.group, b.now, b.sentCounter, b.sentCounterTtlMs,
    JSON.stringify(items.map((i) => {
      const fields: string[] = []
      for (const k in i.fields) fields.push(k, String(i.fields[k]))
      // numbers as strings: finish.lua hands them to commands as they come (a Lua number costs Redis a snprintf)
      return [i.keys.lease, i.keys.request, i.keys.job, i.serial, i.entryId, i.status, String(i.doneMs), String(i.serialMs), i.requestId, i.results, String(i.attempts), fields]
    }))],
  /** entries acked */
  reply: (r: number): number => Number(r),
}

// ---- retry.lua ---------------------------------------------------------------

export interface RetryInput {
  readonly stream: string, readonly retries: string, readonly keys: JobKeys
  readonly group: string, readonly entryId: string, readonly now: number, readonly due: number
  /** the job as it will be re-queued, JSON of its fields */
  readonly member: string
  readonly token: string
  /** the call timed out: it may still reach the phone, so the lease is kept to its end */
  readonly keepLease: boolean
  readonly results: string
  readonly attempts: number
  readonly error: string
}

export const retryScript = {
  args: (i: RetryInput): Arg[] => [i.stream, i.retries, i.keys.request, i.keys.lease, i.keys.job,
    i.group, i.entryId, i.now, i.due, i.member, i.token, i.keepLease ? '1' : '0', i.results, i.attempts, i.error],
  /** the due time when scheduled; undefined when the job was not this handling's to schedule */
  reply: (r: number): number | undefined => (Number(r) > 0 ? Number(r) : undefined),
}

// ---- dead-letter.lua ---------------------------------------------------------

export interface DeadLetterInput {
  readonly stream: string, readonly dead: string, readonly keys: JobKeys
  /** keys.number of the job's mobile: a carrier frequency limit sets its carrierUntil */
  readonly number: string
  readonly group: string, readonly entryId: string, readonly now: number, readonly maxlen: number, readonly token: string
  readonly blockMs: number, readonly reason: string, readonly error: string, readonly attempts: number, readonly results: string
  /** the dead entry's fields, in order */
  readonly entry: readonly string[]
}

export const deadLetterScript = {
  args: (i: DeadLetterInput): Arg[] => [i.stream, i.dead, i.keys.request, i.keys.lease, i.number, i.keys.job,
    i.group, i.entryId, i.now, i.maxlen, i.token, i.blockMs, i.reason, i.error, i.attempts, i.results, ...i.entry],
  /** true when dead-lettered, false when the job was not this handling's to end */
  reply: (r: number): boolean => Number(r) === 1,
}

// ---- promote.lua -------------------------------------------------------------

export interface PromotePartition { readonly retries: string, readonly stream: string, readonly requestPrefix: string, readonly jobPrefix: string }
export interface PromoteAnswer { readonly moved: number, readonly most: number, readonly waiting: number }

export const promoteScript = {
  /** keys then args, for one or (standalone) several partitions */
  keys: (ps: readonly PromotePartition[]): string[] => ps.flatMap((p) => [p.retries, p.stream]),
  args: (ps: readonly PromotePartition[], now: number, limit: number): Arg[] => [now, limit, ...ps.flatMap((p) => [p.requestPrefix, p.jobPrefix])],
  reply: (r: readonly number[]): PromoteAnswer => ({ moved: r[0]!, most: r[1]!, waiting: r[2]! }),
}

// ---- trim.lua ----------------------------------------------------------------

export const trimScript = {
  /** one stream per call (cluster), or every stream in one call (standalone: senderTrimAll, key count first) */
  keys: (streams: readonly string[]): string[] => [...streams],
  args: (group: string): Arg[] => [group],
  /** entries trimmed */
  reply: (r: number): number => Number(r),
}

// ---- forget-consumers.lua ----------------------------------------------------

export interface ForgetConsumersInput {
  readonly group: string
  /** least idle time (ms) of a consumer removed */
  readonly minIdleMs: number
  /** this consumer, never removed */
  readonly self: string
}

export const forgetConsumersScript = {
  args: (i: ForgetConsumersInput): Arg[] => [i.group, i.minIdleMs, i.self],
  /** the names removed */
  reply: (r: readonly string[]): string[] => r.map(String),
}
