import { clusterMode, partitionCount, type Config } from './config.js'
import { keys, partition } from './keys.js'
import type { E164 } from './mobile.js'
import { partitionIndexOf } from './partition.js'
import { receiptScript, type ReceiptResult } from './receipt-script.js'
import { partitionOfRequestId } from './request-id.js'
import type { RedisClient } from './redis.js'

/** A delivery receipt, from a carrier's callback or a pull. */
export interface DeliveryReceipt {
  readonly provider: string
  /** the id the sender mapped to the request when the provider accepted (Tencent SerialNo, Aliyun OutId) */
  readonly messageId: string
  readonly mobile: E164
  readonly delivered: boolean
  readonly reason?: string
  /** when the phone received it, or when the carrier gave up (epoch ms) */
  readonly at: number
}

/**
 * One receipt, one script on its number's slot: the serial key written when
 * the provider accepted leads to the request, which moves to delivered or
 * undelivered unless it has already ended. The API's callback routes and the
 * sender's poller both apply receipts through here.
 */
export async function applyReceipt(redis: RedisClient, config: Config, r: DeliveryReceipt, now = Date.now()): Promise<{ result: ReceiptResult, queuedAt?: number }> {
  const count = partitionCount(config)
  const k = keys(partition(partitionIndexOf(r.mobile, count), count, clusterMode(config)))
  // Only an undelivered receipt carries the carrier's reason.
  const reason = r.delivered ? '' : r.reason ?? ''
  return receiptScript.reply(await redis.smsReceipt(...receiptScript.args({
    serial: k.serial(r.provider, r.messageId), now: r.at || now, delivered: r.delivered, reason, requestPrefix: k.requestPrefix,
  })))
}

/** `2024-03-10 08:03:04`, as Tencent and Aliyun write receipt times, is Beijing time; `fallback` when absent or unreadable. */
export function beijingTime(s: string | undefined, fallback: number): number {
  const t = s ? Date.parse(`${s.trim().replace(' ', 'T')}+08:00`) : NaN
  return Number.isFinite(t) ? t : fallback
}

/**
 * Aliyun's number forms (its SendSms documentation): mainland numbers as 11
 * national digits, others as country code and number without `+` or `00`.
 */
export function aliyunNumber(mobile: E164): string {
  return mobile.startsWith('+86') ? mobile.slice(3) : mobile.slice(1)
}

/**
 * The number of an Aliyun report, read back in E.164. Aliyun's forms are
 * ambiguous: `13105551234` is a mainland mobile and also +1 310 555 1234 in
 * Aliyun's international form. The report's out_id is our request id, which
 * starts with its number's partition, so the reading in that partition wins
 * (with one partition, the mainland one); undefined for a phone that is no
 * number or an out_id whose partition neither reading has.
 */
export function e164FromAliyun(phone: string, outId: string, partitions: number): E164 | undefined {
  const digits = phone.trim().replace(/^(\+|00)/, '')
  if (!/^\d{6,15}$/.test(digits)) return undefined
  const readings = (/^1[3-9]\d{9}$/.test(digits) ? [`+86${digits}`, `+${digits}`] : [`+${digits}`]) as E164[]
  const p = partitionOfRequestId(outId)
  return readings.find((m) => partitionIndexOf(m, partitions) === p)
}
