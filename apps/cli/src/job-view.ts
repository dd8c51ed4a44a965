import { decodeJob, maskMobile, maskMobilesIn, recordOf } from '@sms-verify/shared'
import { idTime } from './format.js'

/**
 * What the CLI shows of a stream or dead-letter entry: masked numbers and no
 * code, sealed or not. Read from the raw fields, so an entry that no longer
 * decodes as a job is still listed (dead-entry.ts adds a dead letter's own fields).
 */
export interface JobView {
  partition: number
  id: string
  at: number
  requestId: string | null
  kind: string | null
  purpose: string | null
  /** masked */
  mobile: string | null
  /** recipients of a bulk job */
  recipients?: number
  attempts: number | null
  createdAt: number | null
  expiresAt: number | null
  /** set when the entry does not decode as a job */
  invalid?: string
}

const SECRET_FIELDS = new Set(['code', 'sealed'])

function fieldsOf(flat: readonly string[]): Record<string, string> {
  const out = recordOf<string>(flat)
  for (const secret of SECRET_FIELDS) delete out[secret]
  return out
}

const num = (s: string | undefined): number | null => (s === undefined || s === '' || Number.isNaN(Number(s)) ? null : Number(s))

export function jobView(partition: number, id: string, flat: readonly string[]): JobView {
  const f = fieldsOf(flat)
  const decoded = decodeJob(flat)
  const mobiles = f.mobiles?.split(',').filter(Boolean)
  const view: JobView = {
    partition,
    id,
    at: idTime(id),
    requestId: f.requestId ?? null,
    kind: f.kind ?? null,
    purpose: f.purpose ?? f.templateId ?? null,
    mobile: f.mobile !== undefined ? maskMobile(f.mobile) : mobiles?.[0] !== undefined ? maskMobile(mobiles[0]) : null,
    attempts: num(f.attempts),
    createdAt: num(f.createdAt),
    expiresAt: num(f.expiresAt),
  }
  if (mobiles) view.recipients = mobiles.length
  if (!decoded.ok) view.invalid = maskMobilesIn(decoded.reason)
  return view
}
