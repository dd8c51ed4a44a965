// Owns cluster mode's reserve-and-refund protocol. The per-IP send window, the budget window and
// the general per-IP request counter live on other slots than the mobile's, so they cannot join
// send.lua. Order: (1) count the request and reserve a place in both windows, in parallel
// (member = request id); (2) if either refuses, ZREM the place the other took and answer the
// refusal; (3) run send.lua on the mobile's slot; (4) if it answers a refusal, ZREM both places.
// An error in (3) refunds nothing: the script may have run, so the place stays taken. A crash
// between (1) and (4) keeps a place until the window slides past it: the error is towards
// refusing a send, never towards sending more than the limits allow.
import type { FastifyBaseLogger } from 'fastify'
import { globalKeys, HOUR_MS, MINUTE_MS, sendScript, windowScript, type Config, type RedisClient, type ScriptCall } from '@sms-verify/shared'
import { countClientRequest } from '../request-counter.js'
import type { SendPlan } from './plan.js'
import type { SendReply } from './reply.js'
import type { RunSendScript } from './script.js'

interface SendWindow {
  readonly key: string
  readonly windowMs: number
  readonly limit: number
  /** send.lua's refusal for a full window, so both modes answer alike */
  readonly refusal: string
}

function windowsOf(config: Config, plan: SendPlan): SendWindow[] {
  const windows: SendWindow[] = [{ key: globalKeys.ipSends(plan.client), windowMs: HOUR_MS, limit: config.SEND_LIMIT_PER_IP_PER_HOUR, refusal: 'rate_limited' }]
  const budget = config.SMS_BUDGET_PER_MINUTE ?? 0
  if (budget > 0 && !plan.testNumber) windows.push({ key: globalKeys.budget, windowMs: MINUTE_MS, limit: budget, refusal: 'budget_exhausted' })
  return windows
}

/** send.lua's stored Idempotency-Key answer, as the script itself would reply to a repeat. */
function storedAnswer(stored: string | null, requestFingerprint: string): SendReply | undefined {
  if (stored === null) return undefined
  const record = JSON.parse(stored) as { f: string, r: SendReply }
  return record.f === requestFingerprint ? ['replay', JSON.stringify(record.r)] : ['idempotency_mismatch']
}

export async function sendClustered(
  redis: RedisClient, config: Config, run: RunSendScript, script: ScriptCall, plan: SendPlan, log: FastifyBaseLogger,
): Promise<SendReply> {
  const windows = windowsOf(config, plan)
  const [counted, ...taken] = await Promise.all([
    countClientRequest(redis, config, plan.client),
    ...windows.map((w) => redis.smsWindow(...windowScript.args({ window: w.key, now: plan.now, windowMs: w.windowMs, limit: w.limit, member: plan.requestId }))
      .then(windowScript.reply)),
  ])
  const refund = () => Promise.all(windows.filter((_, i) => taken[i]!.ok).map((w) => redis.zrem(w.key, plan.requestId)))
  const refused = taken.findIndex((r) => !r.ok)
  if (!counted.ok || refused !== -1) {
    await refund()
    const reply: SendReply = !counted.ok ? ['rate_limited', counted.retryAfterMs] : [windows[refused]!.refusal, taken[refused]!.retryAfterMs]
    // A repeat of an accepted request must get its first answer, not this window's refusal.
    // The stored answer lives on the mobile's slot: one more round trip, only on this path.
    if (plan.idempotency === undefined) return reply
    return storedAnswer(await redis.get(plan.slotKeys.idempotency), plan.idempotency.fingerprint) ?? reply
  }
  // the four per-mobile keys: send.lua with a fixed key count, so ioredis Cluster routes it by KEYS[1]
  const reply = await run((c) => script(c, sendScript.keys(plan.slotKeys), plan.args), plan, log)
  if (reply[0] !== 'ok') await refund()
  return reply
}
