import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
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

export const BulkJobSchema = Type.Object({
  v: Type.Literal(JOB_VERSION),
  kind: Type.Literal('bulk'),
  requestId: Type.String({ minLength: 1 }),
  /** up to 200 E.164 numbers */
  mobiles: Type.Array(Type.String({ pattern: '^\\+\\d{6,15}$' }), { minItems: 1, maxItems: 200 }),
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

/** Job → flat field/value list for XADD. */
export function encodeJob(job: Job): string[] {
  const out: string[] = []
  for (const [k, v] of Object.entries(job)) {
    if (v === undefined) continue
    out.push(k, Array.isArray(v) ? (k === 'mobiles' ? v.join(',') : JSON.stringify(v)) : String(v))
  }
  return out
}

export type DecodeResult = { ok: true, job: Job } | { ok: false, reason: string }

/** Flat field/value list from XREADGROUP → a checked Job, or why it is not one. */
export function decodeJob(fields: readonly string[]): DecodeResult {
  const raw: Record<string, unknown> = {}
  for (let i = 0; i + 1 < fields.length; i += 2) raw[fields[i]!] = fields[i + 1]
  try {
    if (typeof raw.mobiles === 'string') raw.mobiles = raw.mobiles.split(',')
    if (typeof raw.params === 'string') raw.params = JSON.parse(raw.params)
  } catch {
    return { ok: false, reason: 'malformed params' }
  }
  for (const k of ['v', 'createdAt', 'expiresAt', 'attempts']) if (typeof raw[k] === 'string') raw[k] = Number(raw[k])
  if (raw.attempts === undefined) raw.attempts = 0
  if (Value.Check(JobSchema, raw)) return { ok: true, job: raw }
  const first = Value.Errors(JobSchema, raw).First()
  return { ok: false, reason: `invalid job: ${first ? `${first.path} ${first.message}` : 'unknown shape'}` }
}
