import { clusterMode, keys, partition, partitionCount, partitionIndexOf, type Config, type RedisClient } from '@sms-verify/shared'
import type { Receipt } from '../provider.js'

export type ReceiptResult = 'applied' | 'final' | 'unknown'

/**
 * One receipt, one script on its number's slot: the serial key written when
 * the provider accepted leads to the request, which moves to delivered or
 * undelivered unless it has already ended.
 */
export async function applyReceipt(redis: RedisClient, config: Config, r: Receipt, now = Date.now()): Promise<{ result: ReceiptResult, queuedAt?: number }> {
  const count = partitionCount(config)
  const k = keys(partition(partitionIndexOf(r.mobile, count), count, clusterMode(config)))
  // Only an undelivered receipt carries the carrier's reason.
  const reason = r.delivered ? '' : r.reason ?? ''
  const [code, queuedAt] = await redis.smsReceipt(k.serial(r.provider, r.messageId), r.at || now, r.delivered ? '1' : '0', reason, k.requestPrefix)
  const result: ReceiptResult = code === 1 ? 'applied' : code === -1 ? 'final' : 'unknown'
  return queuedAt ? { result, queuedAt: Number(queuedAt) } : { result }
}
