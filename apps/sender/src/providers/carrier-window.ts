/**
 * When a carrier's frequency window ends. Daily windows end at midnight
 * Asia/Shanghai, the carriers' natural day; China has no DST, so a fixed
 * UTC+8 offset is exact.
 */
const SHANGHAI_OFFSET_MS = 8 * 3600_000
const DAY_MS = 86_400_000

export function nextShanghaiMidnight(now: number): number {
  const local = now + SHANGHAI_OFFSET_MS
  return Math.floor(local / DAY_MS) * DAY_MS + DAY_MS - SHANGHAI_OFFSET_MS
}

export type CarrierWindow = { seconds: number } | 'day'

export function windowEnd(window: CarrierWindow, now: number): number {
  return window === 'day' ? nextShanghaiMidnight(now) : now + window.seconds * 1000
}

/** `yyyyMMddHHmmss` in Beijing time, as Ronglian signs its requests. */
export function beijingTimestamp(now: number): string {
  return new Date(now + SHANGHAI_OFFSET_MS).toISOString().replace(/[-:T]/g, '').slice(0, 14)
}
