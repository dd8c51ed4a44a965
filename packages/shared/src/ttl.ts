/** Fixed windows of the product, in milliseconds. Configurable ones live in config.ts. */
export const DAY_MS = 86_400_000
export const HOUR_MS = 3_600_000
export const MINUTE_MS = 60_000
/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_TTL_MS = DAY_MS
/** Dead letters kept (approximate MAXLEN) per partition. */
export const DEAD_LETTER_MAXLEN = 100_000
/** Accepted sends are counted in buckets of this width for `pnpm sms stats` (sends in the last minute). */
export const SENT_BUCKET_MS = 10_000
/** How long a bucket is kept: long enough for a minute's window and a late reader. */
export const SENT_BUCKET_TTL_MS = 2 * MINUTE_MS
export const sentBucketOf = (ms: number): number => Math.floor(ms / SENT_BUCKET_MS)
