// Owns what one verify asks of Redis. Standalone: verify.lua also counts the request against the
// general per-IP limit, so the verify is one round trip. Cluster: that counter lives on another
// slot, so count.lua takes it first and verify.lua runs on the mobile's slot only when it allows.
import {
  codeHmac, defineVerifyScript, globalKeys, partitionIndexOf, verifyScript, verifySettingsOf, type E164, type Purpose, type RedisClient,
  type VerifyOutcome,
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
  const verify = defineVerifyScript([redis], verifySettingsOf(config))
  return async function checkCode({ mobile, purpose, code, client }: CodeCheck): Promise<VerifyOutcome> {
    const k = ctx.partitions[partitionIndexOf(mobile, ctx.partitions.length)]!
    const args = verifyScript.args({ now: ctx.now(), codeHmac: codeHmac(ctx.pepper, mobile, purpose, code), requestPrefix: k.requestPrefix, client, purpose })
    const slotKeys = { number: k.number(mobile), failures: k.clientVerifyFailures(mobile, client) }
    if (!ctx.cluster) {
      return verifyScript.reply(await verify(redis, verifyScript.keys({ ...slotKeys, requestCounter: globalKeys.requestCounter(client) }), args))
    }
    const counted = await countClientRequest(redis, config, client)
    if (!counted.ok) return { kind: 'rate_limited', retryAfterMs: counted.retryAfterMs }
    return verifyScript.reply(await verify(redis, verifyScript.keys(slotKeys), args))
  }
}
export type CodeChecker = ReturnType<typeof codeChecker>
