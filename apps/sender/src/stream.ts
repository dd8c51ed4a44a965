import { recordOf, type Config } from '@sms-verify/shared'

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err))
/** The group (or its stream) is gone: Redis lost its data, or someone deleted it. */
export const isNoGroup = (err: unknown): boolean => errorText(err).startsWith('NOGROUP')

/** Claim stale entries at half the idle time, at least every 5 s. */
export const claimInterval = (c: Pick<Config, 'SENDER_CLAIM_IDLE_MS'>): number =>
  Math.max(10, Math.min(Math.floor(c.SENDER_CLAIM_IDLE_MS / 2), 5000))

/** Due retries are looked for four times per base delay, at most every second. */
export const promoteInterval = (c: Pick<Config, 'SEND_BACKOFF_BASE_MS'>): number =>
  Math.max(10, Math.min(Math.floor(c.SEND_BACKOFF_BASE_MS / 4), 1000))

/**
 * Trimming runs every second: the API refuses sends with backlog_full once
 * XLEN reaches STREAM_MAXLEN, and XLEN counts acked entries until trimmed.
 */
export const TRIM_INTERVAL_MS = 1000

/** Removing gone consumers is cheap but not urgent. */
export const maintenanceInterval = (c: Pick<Config, 'SENDER_CLAIM_IDLE_MS'>): number =>
  Math.min(10 * claimInterval(c), 60_000)

/** A consumer is gone (and removed when it holds nothing) after this long without a read: far past any claim. */
export const forgetIdleMs = (c: Pick<Config, 'SENDER_CLAIM_IDLE_MS'>): number =>
  Math.max(10 * c.SENDER_CLAIM_IDLE_MS, 300_000)

export interface GroupInfo { name: string, pending: number, lastDeliveredId: string, lag: number | null }

/** XINFO GROUPS reply (a list of flat field/value lists) → typed records. */
export function parseGroups(raw: unknown[]): GroupInfo[] {
  return raw.map((g) => {
    const f = recordOf(g as unknown[])
    return {
      name: String(f.name),
      pending: Number(f.pending ?? 0),
      lastDeliveredId: String(f['last-delivered-id'] ?? '0-0'),
      lag: f.lag === null || f.lag === undefined ? null : Number(f.lag),
    }
  })
}
