/**
 * What the HTTP server takes before a request reaches a route (CONTRACT:
 * Hardening). One place, so the server options, the raw answers and the
 * docs agree.
 */

/** Headers and body must be in within this; then 408 or a close. */
export const REQUEST_TIMEOUT_MS = 15_000

/** Node's default, stated: the request line counts towards it (beyond it, 431 or 414). */
export const MAX_HEADER_BYTES = 16 * 1024

/** Longer request targets are 414. Room for a captcha token in the legacy route's query. */
export const MAX_URL_LENGTH = 8 * 1024

/** The methods this API serves somewhere: what a 405 for an unknown method lists in Allow. */
export const SERVED_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'OPTIONS']

/** Response headers a page may read (browsers hide the rest): Retry-After drives the sign-up page's countdown. */
export const EXPOSED_HEADERS: readonly string[] = ['Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset']
