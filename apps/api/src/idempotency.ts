import { createHash } from 'node:crypto'
import { errors } from './errors.js'

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url')

/** 1 to 255 printable ASCII characters (CONTRACT: Idempotency-Key). */
export const IDEMPOTENCY_KEY_PATTERN = '^[\\x20-\\x7E]{1,255}$'
const KEY_RE = new RegExp(IDEMPOTENCY_KEY_PATTERN)

/** The header's value, checked, or undefined when absent. */
export function idempotencyKeyOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const raw = headers['idempotency-key']
  if (raw === undefined) return undefined
  if (typeof raw !== 'string' || !KEY_RE.test(raw)) throw errors.invalidIdempotencyKey()
  return raw
}

/** The key as stored: hashed, so a client's key never appears in a Redis key name. */
export const idempotencyKeyHash = (key: string): string => sha256(key)

/** What "the same request" means: a digest of the parts named by the contract. */
export const fingerprint = (...parts: string[]): string => sha256(parts.join('\0'))
