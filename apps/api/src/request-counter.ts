// The general per-IP request limit as the routes that count it themselves take it in cluster
// mode, where its counter lives on its own slot: one count.lua call. (Standalone, send.lua and
// verify.lua count it inside their own script.)
import { countScript, globalKeys, MINUTE_MS, type Config, type LimitResult, type RedisClient } from '@sms-verify/shared'

export const countClientRequest = (redis: RedisClient, config: Config, client: string): Promise<LimitResult> =>
  redis.smsCount(...countScript.args({ counter: globalKeys.requestCounter(client), limit: config.RATE_LIMIT_PER_MINUTE, windowMs: MINUTE_MS }))
    .then(countScript.reply)
