import type { Purpose } from './purpose.js'

type Arg = string | number

/** verify.lua's KEYS, in its header's order. */
export interface VerifyKeys {
  /** keys.number: the code and the resend cooldown live there */
  readonly number: string
  /** this client's wrong tries on this number (keys.clientVerifyFailures) */
  readonly failures: string
  /** standalone only: the general per-IP limit's counter (cluster: count.lua takes it first) */
  readonly requestCounter?: string
}

/** verify.lua's ARGV, in its header's order. */
export interface VerifyArgs {
  readonly now: number
  readonly codeHmac: string
  readonly maxTries: number
  readonly maxFailuresPerDay: number
  readonly requestPrefix: string
  readonly client: string
  readonly purpose: Purpose
  /** RATE_LIMIT_PER_MINUTE and its window: counted only with keys.requestCounter */
  readonly requestLimit: number
  readonly requestWindowMs: number
}

export type VerifyOutcome =
  | { readonly kind: 'verified', readonly requestId: string }
  | { readonly kind: 'wrong_code', readonly attemptsLeft: number }
  | { readonly kind: 'no_code' }
  /** guessed: this try was checked and was wrong (it closed the code or the day); else refused unchecked */
  | { readonly kind: 'too_many_attempts', readonly retryAfterMs: number, readonly guessed: boolean }
  /** the general per-IP limit refused the request before anything was checked */
  | { readonly kind: 'rate_limited', readonly retryAfterMs: number }

/** The one place that knows verify.lua's positions and reply shapes. */
export const verifyScript = {
  keys: (k: VerifyKeys): string[] => k.requestCounter === undefined ? [k.number, k.failures] : [k.number, k.failures, k.requestCounter],
  args: (a: VerifyArgs): Arg[] => [a.now, a.codeHmac, a.maxTries, a.maxFailuresPerDay, a.requestPrefix, a.client, a.purpose, a.requestLimit, a.requestWindowMs],
  reply: (r: unknown): VerifyOutcome => {
    const [kind, value, guessed] = r as [string, string | number | undefined, number | undefined]
    switch (kind) {
      case 'verified': return { kind, requestId: String(value) }
      case 'wrong_code': return { kind, attemptsLeft: Number(value) }
      case 'no_code': return { kind }
      case 'rate_limited': return { kind, retryAfterMs: Number(value) }
      case 'too_many_attempts': return { kind, retryAfterMs: Number(value), guessed: guessed === 1 }
      default: throw new Error(`verify.lua answered ${String(kind)}`)
    }
  },
}
