import { Type, type Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { recordOf } from './fields.js'
import { PurposeSchema } from './purpose.js'

/**
 * A stream entry. Fields are flat strings in Redis; this schema is the
 * decoded shape. `v` lets a sender refuse entries from a newer writer.
 */
export const JOB_VERSION = 1

const Millis = Type.Integer({ minimum: 0 })

export const CodeJobSchema = Type.Object({
  v: Type.Literal(JOB_VERSION),
  kind: Type.Literal('code'),
  requestId: Type.String({ minLength: 1 }),
  mobile: Type.String({ pattern: '^\\+\\d{6,15}$' }),
  purpose: PurposeSchema,
  /** the code in the clear, only when no JOB_SEAL_KEY is set */
  code: Type.Optional(Type.String({ pattern: '^\\d{4,10}$' })),
  /** the code sealed with AES-256-GCM (see seal.ts) */
  sealed: Type.Optional(Type.String({ minLength: 1 })),
  createdAt: Millis,
  expiresAt: Millis,
  /** provider calls already made for this job (a retry carries it forward) */
  attempts: Type.Integer({ minimum: 0, default: 0 }),
})
export type CodeJob = Static<typeof CodeJobSchema>

const Mobiles = Type.Array(Type.String({ pattern: '^\\+\\d{6,15}$' }), { maxItems: 200 })

export const BulkJobSchema = Type.Object({
  v: Type.Literal(JOB_VERSION),
  kind: Type.Literal('bulk'),
  requestId: Type.String({ minLength: 1 }),
  /**
   * This part's own identity, `<requestId>:<n>`: its lease, its record and its completion are
   * its own, not its request's (a request of 450 numbers is 3 parts). Absent only on entries
   * queued before parts had one: those share the request id (see docs/reliability.md).
   */
  jobId: Type.Optional(Type.String({ minLength: 1 })),
  /** the numbers this round sends: up to 200 E.164 numbers (a retry carries those still due) */
  mobiles: Type.Array(Type.String({ pattern: '^\\+\\d{6,15}$' }), { minItems: 1, maxItems: 200 }),
  /** numbers of this job that earlier rounds sent: a retry carries the count forward */
  sentBefore: Type.Optional(Type.Integer({ minimum: 0 })),
  /** numbers of this job that earlier rounds failed for good, for its dead letter */
  failedBefore: Type.Optional(Mobiles),
  purpose: Type.Optional(PurposeSchema),
  templateId: Type.Optional(Type.String({ minLength: 1 })),
  params: Type.Array(Type.String()),
  createdAt: Millis,
  expiresAt: Millis,
  attempts: Type.Integer({ minimum: 0, default: 0 }),
})
export type BulkJob = Static<typeof BulkJobSchema>

export const JobSchema = Type.Union([CodeJobSchema, BulkJobSchema])
export type Job = Static<typeof JobSchema>

export const BULK_MAX_RECIPIENTS_PER_JOB = 200

/** The identity a job's lease, record and completion go by: a code job is its request's only job. */
export function jobIdOf(job: Job): string {
  return job.kind === 'bulk' ? job.jobId ?? job.requestId : job.requestId
}

export interface BulkRequest {
  readonly requestId: string
  readonly mobiles: readonly string[]
  readonly purpose?: BulkJob['purpose']
  readonly templateId?: string
  readonly params: readonly string[]
  readonly createdAt: number
  readonly expiresAt: number
}

/**
 * A bulk request's jobs: at most BULK_MAX_RECIPIENTS_PER_JOB numbers each, mainland (+86) and
 * the rest apart (Tencent refuses a SendSms that mixes them:
 * UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber; Hong Kong, Macau and Taiwan
 * count as international there). Each job gets its own id, `<requestId>:<n>`.
 */
export function bulkJobs(r: BulkRequest): BulkJob[] {
  const domestic = r.mobiles.filter((m) => m.startsWith('+86'))
  const international = r.mobiles.filter((m) => !m.startsWith('+86'))
  const batches: string[][] = []
  for (const group of [domestic, international]) {
    for (let i = 0; i < group.length; i += BULK_MAX_RECIPIENTS_PER_JOB) batches.push(group.slice(i, i + BULK_MAX_RECIPIENTS_PER_JOB))
  }
  return batches.map((mobiles, n) => ({
    v: JOB_VERSION, kind: 'bulk', requestId: r.requestId, jobId: `${r.requestId}:${n}`, mobiles,
    ...(r.purpose === undefined ? {} : { purpose: r.purpose }), ...(r.templateId === undefined ? {} : { templateId: r.templateId }),
    params: [...r.params], createdAt: r.createdAt, expiresAt: r.expiresAt, attempts: 0,
  }))
}

/** Fields that hold numbers, comma-joined in the stream. */
const LISTS = new Set(['mobiles', 'failedBefore'])

/** Job → flat field/value list for XADD. */
export function encodeJob(job: Job): string[] {
  const out: string[] = []
  for (const [k, v] of Object.entries(job)) {
    if (v === undefined) continue
    out.push(k, Array.isArray(v) ? (LISTS.has(k) ? v.join(',') : JSON.stringify(v)) : String(v))
  }
  return out
}

/** Compiled once: the sender checks every entry it reads, and Value.Check walks the schema each time. */
const jobCheck = TypeCompiler.Compile(JobSchema)

export type DecodeResult = { ok: true, job: Job } | { ok: false, reason: string }

/** Flat field/value list from XREADGROUP → a checked Job, or why it is not one. */
export function decodeJob(fields: readonly string[]): DecodeResult {
  const raw = recordOf(fields)
  try {
    for (const k of LISTS) if (typeof raw[k] === 'string') raw[k] = raw[k] === '' ? [] : raw[k].split(',')
    if (typeof raw.params === 'string') raw.params = JSON.parse(raw.params)
  } catch {
    return { ok: false, reason: 'malformed params' }
  }
  for (const k of ['v', 'createdAt', 'expiresAt', 'attempts', 'sentBefore']) if (typeof raw[k] === 'string') raw[k] = Number(raw[k])
  if (raw.attempts === undefined) raw.attempts = 0
  if (jobCheck.Check(raw)) return { ok: true, job: raw }
  const first = jobCheck.Errors(raw).First()
  return { ok: false, reason: `invalid job: ${first ? `${first.path} ${first.message}` : 'unknown shape'}` }
}
