import type { Config } from './config.js'
import { JOB_VERSION, type CodeJob } from './job.js'
import type { E164 } from './mobile.js'
import type { Purpose } from './purpose.js'
import type { RedisClient } from './redis.js'
import { defineSettledScript, settledSource, type ScriptCall } from './settled-script.js'
import { DAY_MS, HOUR_MS, IDEMPOTENCY_TTL_MS, MINUTE_MS } from './ttl.js'

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

/**
 * What a deployment's sends share: written into send.lua's text once (its settings' locals), so
 * no call carries them. Each argument a call carries costs Redis about 1,000 instructions to
 * decode (bench/README.md, "Redis instructions").
 */
export interface SendSettings {
  readonly codeTtlMs: number
  readonly resendIntervalMs: number
  readonly dailyLimit: number
  /** how long a request's status record lasts: the code's life plus STATUS_TTL_SECONDS */
  readonly statusTtlMs: number
  readonly idempotencyTtlMs: number
  /** refuse rather than trim unsent jobs beyond this many */
  readonly streamCap: number
  readonly ipLimitPerHour: number
  /** 0 = off */
  readonly budgetPerMinute: number
  /** the general per-IP limit: requests per window */
  readonly requestLimit: number
  readonly requestWindowMs: number
}

export const sendSettingsOf = (config: Config): SendSettings => ({
  codeTtlMs: config.CODE_TTL_SECONDS * 1000,
  resendIntervalMs: config.RESEND_INTERVAL_SECONDS * 1000,
  dailyLimit: config.SMS_DAILY_LIMIT_PER_MOBILE,
  statusTtlMs: (config.CODE_TTL_SECONDS + config.STATUS_TTL_SECONDS) * 1000,
  idempotencyTtlMs: IDEMPOTENCY_TTL_MS,
  streamCap: config.STREAM_MAXLEN,
  ipLimitPerHour: config.SEND_LIMIT_PER_IP_PER_HOUR,
  budgetPerMinute: config.SMS_BUDGET_PER_MINUTE ?? 0,
  requestLimit: config.RATE_LIMIT_PER_MINUTE,
  requestWindowMs: MINUTE_MS,
})

/** send.lua's per-request ARGV, in its header's order. */
export interface SendArgs {
  readonly now: number
  readonly requestId: string
  readonly mobile: E164
  readonly purpose: Purpose
  readonly codeHmac: string
  /** '' when the request has no Idempotency-Key */
  readonly idempotencyFingerprint: string
  readonly testNumber: boolean
  /** the requester's client key, kept with the code: verify.lua gives the requester its own budget */
  readonly client: string
  /** what the job carries for the code: sealed with JOB_SEAL_KEY, or in the clear without one */
  readonly jobCode: { readonly sealed: string } | { readonly code: string }
}

/** The one place that knows send.lua's positions and settings: call sites pass names. */
export const sendScript = {
  keys: (k: SendKeys): string[] => {
    const perMobile = [k.number, k.request, k.stream, k.idempotency]
    if (k.ipSends === undefined || k.budget === undefined || k.requestCounter === undefined) return perMobile
    return [...perMobile, k.ipSends, k.budget, k.requestCounter]
  },
  /** send.lua's text for these settings: their locals in front of the file (settled-script.ts). */
  source: (s: SendSettings): string => {
    // A send counts against the daily limit until 24 h after its code stops being checkable, so
    // any 24 h of verifies meets at most the daily limit's number of codes (docs/abuse-guards.md).
    const dailyWindowMs = DAY_MS + s.codeTtlMs
    const numbers = {
      CODE_TTL_MS: s.codeTtlMs, RESEND_INTERVAL_MS: s.resendIntervalMs, DAILY_LIMIT: s.dailyLimit, DAILY_WINDOW_MS: dailyWindowMs,
      STREAM_CAP: s.streamCap, IP_LIMIT_PER_HOUR: s.ipLimitPerHour, BUDGET_PER_MINUTE: s.budgetPerMinute, REQUEST_LIMIT: s.requestLimit,
    }
    const strings = {
      CODE_TTL: s.codeTtlMs, STATUS_TTL: s.statusTtlMs, IDEMPOTENCY_TTL: s.idempotencyTtlMs, REQUEST_WINDOW: s.requestWindowMs,
      // an accepted send means no carrier block is running, so the daily window (or a longer
      // cooldown) is the longest anything in the number's hash must last
      NUMBER_TTL: Math.max(dailyWindowMs, s.resendIntervalMs),
      // the job's `v`: the script writes the job, job.ts says which version that is
      JOB_VERSION,
    }
    return settledSource('send', numbers, strings)
  },
  /** The arguments by send.lua's positions, each a string as Redis would pass it. */
  argv: (s: SendSettings, a: SendArgs): string[] => {
    const [codeField, codeValue] = 'sealed' in a.jobCode ? ['sealed', a.jobCode.sealed] : ['code', a.jobCode.code]
    return [
      String(a.now), a.requestId, a.mobile, a.purpose, a.codeHmac, a.idempotencyFingerprint, a.testNumber ? '1' : '0', a.client,
      String(a.now + s.codeTtlMs),
      String(a.now + s.resendIntervalMs),
      String(a.now - HOUR_MS),
      String(a.now - MINUTE_MS),
      codeField, codeValue,
    ]
  },
  /** One JSON argument, the array send.lua reads as its ARGV: ioredis's cost is per argument. */
  args: (s: SendSettings, a: SendArgs): string[] => [JSON.stringify(sendScript.argv(s, a))],
  /** The job send.lua queues for these arguments: the stream entry is encodeJob of this, field for field. */
  jobOf: (s: SendSettings, a: SendArgs): CodeJob => ({
    v: JOB_VERSION, kind: 'code', requestId: a.requestId, mobile: a.mobile, purpose: a.purpose, ...a.jobCode,
    createdAt: a.now, expiresAt: a.now + s.codeTtlMs, attempts: 0,
  }),
}

/**
 * Registers send.lua with these settings on each client. With all seven keys the call is
 * variadic (standalone); with the four per-mobile keys it has a fixed key count, so ioredis
 * Cluster routes it by KEYS[1].
 */
export const defineSendScript = (clients: readonly RedisClient[], settings: SendSettings): ScriptCall =>
  defineSettledScript(clients, 'smsSend', sendScript.source(settings), 4)
