import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { pairsOf, recordOf } from './fields.js'

/**
 * A dead letter: an entry of a partition's dead stream, written by the sender
 * (dead-letter.lua) when a job fails for good, read by `pnpm sms dead` and put
 * back on the stream by its replay. Its own fields come first, then the fields
 * of the entry it was, for a replay.
 */
export const DeadLetterSchema = Type.Object({
  /** '' for an entry that did not decode as a job and named no request */
  requestId: Type.String(),
  /** why it died: permanent, attempts_exhausted, carrier_limit, unseal_failed, malformed */
  reason: Type.String({ minLength: 1 }),
  /** provider calls made */
  attempts: Type.Integer({ minimum: 0 }),
  /** the provider's last error (or why the entry did not decode) */
  lastError: Type.String(),
  failedAt: Type.Integer({ minimum: 0 }),
  /** the stream entry that died */
  entryId: Type.String({ minLength: 1 }),
  /** a code job's number */
  mobile: Type.Optional(Type.String({ minLength: 1 })),
  /** a bulk job's numbers to replay: those that failed (in a letter for an entry that was no job, the entry's own) */
  mobiles: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  /** the dead entry's other fields (field, value, …), which a replay re-queues: never the code */
  original: Type.Array(Type.String()),
})
export type DeadLetter = Static<typeof DeadLetterSchema>

/** Fields of the dead entry a dead letter does not copy: the code, those it writes itself, and a retry's carried-forward counts. */
export const NOT_REPLAYED: ReadonlySet<string> = new Set(['code', 'requestId', 'mobile', 'attempts', 'sentBefore', 'failedBefore'])

/** Fields only a dead letter has: a replay drops them, so the re-queued entry is the job as the API wrote it. */
export const DEAD_LETTER_ONLY = ['reason', 'lastError', 'failedAt', 'entryId'] as const

/**
 * Dead letter → flat field/value list for XADD. `original` may be the dead entry's fields as
 * read: what a dead letter does not copy is left out here (and `mobiles` when the letter names its own).
 */
export function encodeDeadLetter(d: DeadLetter): string[] {
  const out = ['requestId', d.requestId, 'reason', d.reason, 'attempts', String(d.attempts), 'lastError', d.lastError,
    'failedAt', String(d.failedAt), 'entryId', d.entryId]
  if (d.mobile) out.push('mobile', d.mobile)
  if (d.mobiles) out.push('mobiles', d.mobiles.join(','))
  for (const [field, value] of pairsOf<string>(d.original)) {
    if (!NOT_REPLAYED.has(field) && !(d.mobiles && field === 'mobiles')) out.push(field, value)
  }
  return out
}

export type DeadLetterDecoded = { ok: true, letter: DeadLetter } | { ok: false, reason: string }

/** The letter's own fields; everything else in it is the dead entry's. */
const OWN: ReadonlySet<string> = new Set(Object.keys(DeadLetterSchema.properties).filter((k) => k !== 'original'))
const integer = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : s)

/** Flat field/value list from XRANGE on a dead stream → a checked dead letter, or why it is not one. */
export function decodeDeadLetter(fields: readonly string[]): DeadLetterDecoded {
  const f = recordOf<string>(fields)
  const original = pairsOf<string>(fields).filter(([field]) => !OWN.has(field)).flat()
  const raw = {
    requestId: f.requestId, reason: f.reason, attempts: integer(f.attempts), lastError: f.lastError,
    failedAt: integer(f.failedAt), entryId: f.entryId,
    ...(f.mobile === undefined ? {} : { mobile: f.mobile }),
    ...(f.mobiles === undefined ? {} : { mobiles: f.mobiles === '' ? [] : f.mobiles.split(',') }),
    original,
  }
  if (Value.Check(DeadLetterSchema, raw)) return { ok: true, letter: raw }
  const first = Value.Errors(DeadLetterSchema, raw).First()
  return { ok: false, reason: `invalid dead letter: ${first ? `${first.path} ${first.message}` : 'unknown shape'}` }
}
