import { Type } from '@sinclair/typebox'

/**
 * Every error a client can see, defined once: HTTP status, snake_case code and
 * a fixed human sentence. Routes throw these; the error handler sends them.
 */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    message: string,
    readonly fields: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
    this.name = 'ApiError'
  }

  body(): Record<string, unknown> {
    return { error: this.error, message: this.message, ...this.fields }
  }
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000))

/** A refusal that tells the client when to come back, in the body and in Retry-After. */
function retryable(status: number, error: string, message: string, retryAfterMs: number, fields: Record<string, unknown> = {}): ApiError {
  const retryAfter = seconds(retryAfterMs)
  return new ApiError(status, error, message, { retryAfter, ...fields }, { 'retry-after': String(retryAfter) })
}

export const errors = {
  badRequest: () => new ApiError(400, 'bad_request', 'the request is not valid HTTP/1.1'),
  badUrl: () => new ApiError(400, 'bad_request', 'the request target is not a valid URL (check its percent-encoding)'),
  invalidBody: (detail?: string) => new ApiError(400, 'invalid_body', detail ? `invalid request body: ${detail}` : 'invalid request body'),
  invalidMobile: () => new ApiError(400, 'invalid_mobile', 'mobile is not a valid mobile number'),
  invalidPurpose: () => new ApiError(400, 'invalid_purpose', 'purpose must be one of register, login, reset_password'),
  invalidCode: () => new ApiError(400, 'invalid_code', 'code must be 4 to 10 digits'),
  invalidIdempotencyKey: () => new ApiError(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1 to 255 printable ASCII characters'),
  clientUnknown: () => new ApiError(400, 'client_unknown', 'the client address is unknown (the connection closed before the request was handled)'),
  crossSite: () => new ApiError(403, 'cross_site', 'this route cannot be triggered from another site'),
  invalidHost: () => new ApiError(400, 'invalid_host', 'the Host header is not an allowed host'),
  regionNotAllowed: () => new ApiError(400, 'region_not_allowed', 'numbers from this region are not served'),
  wrongCode: (attemptsLeft: number) => new ApiError(400, 'wrong_code', 'the code is wrong', { attemptsLeft }),
  unauthorized: () => new ApiError(401, 'unauthorized', 'a bearer token is required', {}, { 'www-authenticate': 'Bearer' }),
  forbidden: () => new ApiError(403, 'forbidden', 'the bearer token is wrong'),
  notFound: () => new ApiError(404, 'not_found', 'not found'),
  noCode: () => new ApiError(404, 'no_code', 'no valid code for this number and purpose (none sent, expired or used)'),
  methodNotAllowed: (allow: readonly string[]) =>
    new ApiError(405, 'method_not_allowed', `this route does not take that method; it takes ${allow.join(', ')}`, {}, { allow: allow.join(', ') }),
  requestTimeout: (ms: number) => new ApiError(408, 'request_timeout', `the request was not received in full within ${seconds(ms)} s`),
  idempotencyMismatch: () => new ApiError(422, 'idempotency_mismatch', 'this Idempotency-Key was used with a different request'),
  payloadTooLarge: () => new ApiError(413, 'payload_too_large', 'the request body is too large'),
  uriTooLong: () => new ApiError(414, 'uri_too_long', 'the request target is too long'),
  unsupportedMediaType: () => new ApiError(415, 'unsupported_media_type', 'the body must be JSON: send it with content-type: application/json'),
  expectationFailed: () => new ApiError(417, 'expectation_failed', 'the only expectation served is Expect: 100-continue'),
  headersTooLarge: () => new ApiError(431, 'headers_too_large', 'the request headers are too large'),
  tooFrequent: (ms: number) => retryable(429, 'too_frequent', 'a code was sent to this number recently; wait before asking again', ms),
  dailyLimit: (ms: number) => retryable(429, 'daily_limit', 'this number has had too many codes in the last 24 hours', ms),
  carrierLimit: (ms: number) => retryable(429, 'carrier_limit', 'the carrier refuses more messages to this number for now', ms),
  rateLimited: (ms: number) => retryable(429, 'rate_limited', 'too many requests from this address', ms),
  tooManyAttempts: (ms: number) => retryable(429, 'too_many_attempts', 'too many wrong codes; ask for a new code later', ms),
  budgetExhausted: (ms: number) => retryable(503, 'budget_exhausted', 'the service has reached its sending budget; try again shortly', ms),
  unavailable: () => new ApiError(503, 'unavailable', 'the service is temporarily unavailable', {}, { 'retry-after': '1' }),
  internal: () => new ApiError(500, 'internal', 'internal server error'),
  captchaRequired: (field: string) => new ApiError(400, 'captcha_required', `${field} is required: solve the captcha first`),
  captchaFailed: () => new ApiError(403, 'captcha_failed', 'the captcha was not accepted; solve it again (a token is good for one send)'),
  captchaUnavailable: () => new ApiError(503, 'captcha_unavailable', 'the captcha could not be checked; nothing was sent, try again shortly', {}, { 'retry-after': '1' }),
} as const

/** Script refusals (send.lua / verify.lua) → the error a client sees. */
export function refusal(reason: string, retryAfterMs: number): ApiError {
  switch (reason) {
    case 'too_frequent': return errors.tooFrequent(retryAfterMs)
    case 'daily_limit': return errors.dailyLimit(retryAfterMs)
    case 'carrier_limit': return errors.carrierLimit(retryAfterMs)
    case 'rate_limited': return errors.rateLimited(retryAfterMs)
    case 'budget_exhausted': return errors.budgetExhausted(retryAfterMs)
    case 'too_many_attempts': return errors.tooManyAttempts(retryAfterMs)
    case 'idempotency_mismatch': return errors.idempotencyMismatch()
    default: return errors.unavailable() // backlog_full, and anything a newer script might add
  }
}

const OUTAGE_REPLY = /^(LOADING|CLUSTERDOWN|MASTERDOWN|READONLY|TRYAGAIN|NOREPLICAS|BUSY|MOVED|ASK)\b/
const OUTAGE_MESSAGE = /Stream isn't writeable|isn't ready|Command timed out|Connection is closed|max retries per request|None of startup nodes|Failed to refresh slots|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE/i

/** True when an error means Redis cannot be reached right now (answer 503), not a bug (answer 500). */
export function isRedisOutage(err: Error): boolean {
  if (err.name === 'ReplyError') return OUTAGE_REPLY.test(err.message)
  return ['MaxRetriesPerRequestError', 'ClusterAllFailedError', 'AbortError'].includes(err.name) || OUTAGE_MESSAGE.test(err.message)
}

/** The one error body; routes list it for every error status they can answer. */
export const ErrorBody = Type.Object({
  error: Type.String({ examples: ['too_frequent'] }),
  message: Type.String({ examples: ['a code was sent to this number recently; wait before asking again'] }),
  retryAfter: Type.Optional(Type.Integer({ description: 'seconds until a retry may succeed', examples: [42] })),
  attemptsLeft: Type.Optional(Type.Integer({ examples: [3] })),
}, { additionalProperties: true })

export const errorResponses = <S extends number>(...statuses: S[]) =>
  Object.fromEntries(statuses.map((s) => [s, ErrorBody])) as Record<S, typeof ErrorBody>
