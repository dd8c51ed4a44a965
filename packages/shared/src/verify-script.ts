import type { Config } from './config.js'
import type { Purpose } from './purpose.js'
import type { RedisClient } from './redis.js'
import { defineSettledScript, settledSource, type ScriptCall } from './settled-script.js'
import { MINUTE_MS } from './ttl.js'

/** verify.lua's KEYS, in its header's order. */
export interface VerifyKeys {
  /** keys.number: the code and the resend cooldown live there */
  readonly number: string
  /** this client's wrong tries on this number (keys.clientVerifyFailures) */
  readonly failures: string
  /** standalone only: the general per-IP limit's counter (cluster: count.lua takes it first) */
  readonly requestCounter?: string
}

/** What every verify of a deployment shares: written into verify.lua's text (settled-script.ts). */
export interface VerifySettings {
  /** wrong tries per code, per side (the requester; everyone else) */
  readonly maxTries: number
  /** wrong tries per number and client per rolling 24 h */
  readonly maxFailuresPerDay: number
  /** the general per-IP limit and its window: counted only with keys.requestCounter */
  readonly requestLimit: number
  readonly requestWindowMs: number
}

export const verifySettingsOf = (config: Config): VerifySettings => ({
  maxTries: config.VERIFY_MAX_ATTEMPTS, maxFailuresPerDay: config.VERIFY_MAX_FAILURES_PER_DAY,
  requestLimit: config.RATE_LIMIT_PER_MINUTE, requestWindowMs: MINUTE_MS,
})

/** verify.lua's ARGV, in its header's order. */
export interface VerifyArgs {
  readonly now: number
  readonly codeHmac: string
  readonly requestPrefix: string
  readonly client: string
  readonly purpose: Purpose
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
  source: (s: VerifySettings): string => settledSource('verify',
    { MAX_TRIES: s.maxTries, MAX_DAILY: s.maxFailuresPerDay, REQUEST_LIMIT: s.requestLimit },
    { REQUEST_WINDOW: s.requestWindowMs }),
  args: (a: VerifyArgs): string[] => [String(a.now), a.codeHmac, a.requestPrefix, a.client, a.purpose],
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

/**
 * Registers verify.lua with these settings on each client. With the per-IP counter's key the call
 * is variadic (standalone); with the two per-mobile keys it has a fixed key count, so ioredis
 * Cluster routes it by KEYS[1].
 */
export const defineVerifyScript = (clients: readonly RedisClient[], settings: VerifySettings): ScriptCall =>
  defineSettledScript(clients, 'smsVerify', verifyScript.source(settings), 2)
