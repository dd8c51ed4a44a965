import type { E164 } from './mobile.js'
import type { Purpose } from './purpose.js'
import { DAY_MS, HOUR_MS, MINUTE_MS } from './ttl.js'

type Arg = string | number

/** send.lua's KEYS, in its header's order. The last three only standalone (cluster: other slots). */
export interface SendKeys {
  /** keys.number: cooldown, live code, daily window and carrier block in one hash */
  readonly number: string
  readonly request: string
  readonly stream: string
  readonly idempotency: string
  readonly ipSends?: string
  readonly budget?: string
  readonly requestCounter?: string
}

/** send.lua's ARGV, in its header's order. */
export interface SendArgs {
  readonly now: number
  readonly requestId: string
  readonly mobile: E164
  readonly purpose: Purpose
  readonly codeHmac: string
  readonly codeTtlMs: number
  readonly resendIntervalMs: number
  readonly dailyLimit: number
  readonly statusTtlMs: number
  /** '' when the request has no Idempotency-Key */
  readonly idempotencyFingerprint: string
  readonly idempotencyTtlMs: number
  readonly testNumber: boolean
  readonly streamCap: number
  readonly requestPrefix: string
  readonly ipLimitPerHour: number
  /** 0 = off */
  readonly budgetPerMinute: number
  readonly requestLimit: number
  readonly requestWindowMs: number
  /** the requester's client key, kept with the code: verify.lua gives the requester its own budget */
  readonly client: string
  /** encodeJob's fields, for XADD */
  readonly job: readonly string[]
}

/** The one place that knows send.lua's positions: call sites pass names. */
export const sendScript = {
  keys: (k: SendKeys): string[] => {
    const perMobile = [k.number, k.request, k.stream, k.idempotency]
    if (k.ipSends === undefined || k.budget === undefined || k.requestCounter === undefined) return perMobile
    return [...perMobile, k.ipSends, k.budget, k.requestCounter]
  },
  /** send.lua's ARGV position (1-based) of the job's first field: `unpack(ARGV, 26)` */
  jobAt: 26,
  /** One JSON argument, the array send.lua reads as its ARGV (the header's positions). */
  args: (a: SendArgs): Arg[] => [JSON.stringify(sendScript.argv(a))],
  /**
   * The arguments by send.lua's positions, each a string as Redis would pass it. The times the
   * script writes are worked out here: a number the script formats itself costs Redis far more.
   */
  argv: (a: SendArgs): string[] => {
    // A send counts against the daily limit until 24 h after its code stops being checkable, so
    // any 24 h of verifies meets at most the daily limit's number of codes (docs/abuse-guards.md).
    const dailyWindowMs = DAY_MS + a.codeTtlMs
    return [
      String(a.now), a.requestId, a.mobile, a.purpose, a.codeHmac, String(a.codeTtlMs),
      String(a.resendIntervalMs), String(a.dailyLimit), String(a.statusTtlMs),
      a.idempotencyFingerprint, String(a.idempotencyTtlMs),
      a.testNumber ? '1' : '0',
      String(a.streamCap),
      a.requestPrefix,
      String(a.ipLimitPerHour), String(a.budgetPerMinute),
      String(a.requestLimit), String(a.requestWindowMs),
      a.client,
      String(a.now + a.codeTtlMs),
      String(a.now + a.resendIntervalMs),
      String(dailyWindowMs),
      // an accepted send means no carrier block is running, so the daily window (or a longer
      // cooldown) is the longest anything in the number's hash must last
      String(Math.max(dailyWindowMs, a.resendIntervalMs)),
      String(a.now - HOUR_MS),
      String(a.now - MINUTE_MS),
      ...a.job,
    ]
  },
}
