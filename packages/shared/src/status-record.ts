import { Type, type Static } from '@sinclair/typebox'
import { StatusSchema, UNCHECKED, type Status } from './status.js'

/**
 * A request's status record: the hash keys.request(requestId), written only by Lua
 * (send.lua and bulk.lua create it; lease, retry, finish, dead-letter, receipt, verify
 * and the CLI's replay move it on) and read by the API's status route and `pnpm sms status`
 * through decodeStatusRecord. Its fields, by the names the scripts write:
 *
 *   requestId, kind ('code' | 'bulk'), mobile, purpose (code only), status, attempts
 *   provider, messageId, fee            finish.lua: the provider that accepted, its message id
 *   lastError, retryAt                  retry.lua: the latest transient error, when the retry is due
 *                                       (lastError stays on the record: `error` alone says why delivery failed)
 *   error                               why delivery failed: the provider's error (dead-letter.lua,
 *                                       status failed) or the carrier's reason (receipt.lua, undelivered)
 *   failReason                          dead-letter.lua: the dead letter's reason (permanent, …)
 *   recipients, jobs, jobsEnded, sent, failed, results (JSON {mobile: {status, provider?, error?}})
 *                                       bulk only
 *   entryId                             the stream entry that carries the job ('retry' while it waits)
 *   createdAt, updatedAt, expiresAt     epoch ms
 *   <status>At                          when each status was reached (queuedAt, sendingAt, sentAt, …)
 */
const Millis = Type.Integer({ minimum: 0 })

export const NumberResultSchema = Type.Object({
  status: Type.String(),
  provider: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
})
export type NumberResult = Static<typeof NumberResultSchema>

export const StatusRecordSchema = Type.Object({
  requestId: Type.String(),
  kind: Type.Union([Type.Literal('code'), Type.Literal('bulk')]),
  /** as stored: a code that ran out unchecked still reads its last status here (see statusOnRead) */
  status: StatusSchema,
  mobile: Type.Optional(Type.String()),
  purpose: Type.Optional(Type.String()),
  attempts: Type.Integer({ minimum: 0 }),
  provider: Type.Optional(Type.String()),
  messageId: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
  failReason: Type.Optional(Type.String()),
  lastError: Type.Optional(Type.String()),
  recipients: Type.Optional(Type.Integer({ minimum: 0 })),
  sent: Type.Optional(Type.Integer({ minimum: 0 })),
  failed: Type.Optional(Type.Integer({ minimum: 0 })),
  /** per number, unmasked */
  results: Type.Optional(Type.Record(Type.String(), NumberResultSchema)),
  /** the request's creation (queuedAt on records that have no createdAt) */
  createdAt: Millis,
  updatedAt: Millis,
  expiresAt: Type.Optional(Millis),
  /** each `<name>At` field but createdAt, updatedAt and expiresAt, by name: the statuses reached, `replayed`, and `retry` (when a retry is due) */
  timestamps: Type.Record(Type.String(), Millis),
})
export type StatusRecord = Static<typeof StatusRecordSchema>

/** Fields ending in `At` that are not the time a status was reached. */
const NOT_STEPS = new Set(['createdAt', 'updatedAt', 'expiresAt'])

const count = (s: string | undefined) => (s === undefined ? undefined : Number(s))

/** HGETALL of a status record → the record; undefined when there is none (never made, or expired). */
export function decodeStatusRecord(hash: Readonly<Record<string, string>>): StatusRecord | undefined {
  if (hash.status === undefined) return undefined
  const kind = hash.kind === 'bulk' ? 'bulk' : 'code'
  const timestamps: Record<string, number> = {}
  for (const [field, value] of Object.entries(hash)) {
    if (field.endsWith('At') && !NOT_STEPS.has(field)) timestamps[field.slice(0, -2)] = Number(value)
  }
  const optional = { mobile: hash.mobile, purpose: hash.purpose, provider: hash.provider, messageId: hash.messageId,
    error: hash.error, failReason: hash.failReason, lastError: hash.lastError,
    recipients: count(hash.recipients), expiresAt: count(hash.expiresAt),
    ...(kind === 'bulk' ? { sent: count(hash.sent), failed: count(hash.failed), results: hash.results === undefined ? undefined : JSON.parse(hash.results) as Record<string, NumberResult> } : {}) }
  return {
    requestId: hash.requestId ?? '',
    kind,
    status: hash.status as Status,
    attempts: Number(hash.attempts ?? 0),
    createdAt: Number(hash.createdAt ?? hash.queuedAt ?? 0),
    updatedAt: Number(hash.updatedAt ?? 0),
    timestamps,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  }
}

/**
 * The status a reader answers at `now`: nothing writes `expired` when a code simply runs out
 * unchecked, so the read says it (with the expiry as its timestamp).
 */
export function statusOnRead(r: StatusRecord, now: number): { status: Status, timestamps: Record<string, number> } {
  if (r.kind !== 'code' || !UNCHECKED.has(r.status) || r.expiresAt === undefined || r.expiresAt > now) return { status: r.status, timestamps: r.timestamps }
  return { status: 'expired', timestamps: r.timestamps.expired === undefined ? { ...r.timestamps, expired: r.expiresAt } : r.timestamps }
}
