/** Fixed windows of the product, in milliseconds. Configurable ones live in config.ts. */
export const DAY_MS = 86_400_000
export const HOUR_MS = 3_600_000
export const MINUTE_MS = 60_000
/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_TTL_MS = DAY_MS
/** Dead letters kept (approximate MAXLEN) per partition. */
export const DEAD_LETTER_MAXLEN = 100_000
