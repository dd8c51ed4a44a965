// Owns what one verify asks of Redis. Standalone: verify.lua also counts the request against the
// general per-IP limit, so the verify is one round trip. Cluster: that counter lives on another
// slot, so count.lua takes it first and verify.lua runs on the mobile's slot only when it allows.
import {
  codeHmac, globalKeys, MINUTE_MS, partitionIndexOf, verifyScript, type E164, type Purpose, type RedisClient, type VerifyOutcome,
} from '@sms-verify/shared'
import type { ApiContext } from './context.js'
import { countClientRequest } from './request-counter.js'

export interface CodeCheck {
  readonly mobile: E164
  readonly purpose: Purpose
  readonly code: string
  /** the client key (client-key.ts) the per-IP limits count under */
  readonly client: string
}

export function codeChecker(redis: RedisClient, ctx: ApiContext) {
  const { config } = ctx
  return async function checkCode({ mobile, purpose, code, client }: CodeCheck): Promise<VerifyOutcome> {
    const k = ctx.partitions[partitionIndexOf(mobile, ctx.partitions.length)]!
    const args = verifyScript.args({
      now: ctx.now(), codeHmac: codeHmac(ctx.pepper, mobile, purpose, code), maxTries: config.VERIFY_MAX_ATTEMPTS,
      maxFailuresPerDay: config.VERIFY_MAX_FAILURES_PER_DAY, requestPrefix: k.requestPrefix, client, purpose,
      requestLimit: config.RATE_LIMIT_PER_MINUTE, requestWindowMs: MINUTE_MS,
    })
    const slotKeys = { number: k.number(mobile), failures: k.clientVerifyFailures(mobile, client) }
    if (!ctx.cluster) {
      return verifyScript.reply(await redis.smsVerify(...verifyScript.keys({ ...slotKeys, requestCounter: globalKeys.requestCounter(client) }), ...args))
    }
    const counted = await countClientRequest(redis, config, client)
    if (!counted.ok) return { kind: 'rate_limited', retryAfterMs: counted.retryAfterMs }
    return verifyScript.reply(await redis.smsVerifySharded(...verifyScript.keys(slotKeys), ...args))
  }
}
export type CodeChecker = ReturnType<typeof codeChecker>
