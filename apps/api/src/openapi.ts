import { HOST_EXEMPT } from './plugins/host-check.js'

/**
 * What every operation answers whatever its route file says: the global
 * plugins' refusals (Host check, per-IP limit), the headers that go with them,
 * a description per answer and an example per error. Applied to the document
 * built from the route schemas, so routes added later are covered as they are.
 */

interface MediaType { schema?: unknown, example?: unknown, examples?: Record<string, { summary?: string, value: unknown }> }
interface Header { description?: string, schema: Record<string, unknown> }
export interface OpenApiResponse { description: string, headers?: Record<string, Header>, content?: Record<string, MediaType> }
export interface OpenApiOperation {
  operationId?: string
  security?: unknown[]
  responses: Record<string, OpenApiResponse>
  [field: string]: unknown
}
export interface OpenApiDocument { paths: Record<string, Record<string, OpenApiOperation>>, [field: string]: unknown }

const DEFAULT_DESCRIPTION = 'Default Response'

/** A description for an answer whose route gave none. */
const STATUS_DESCRIPTIONS: Record<string, string> = {
  200: 'Done.',
  202: 'Accepted and queued.',
  400: 'The request is invalid; `error` names the problem.',
  401: 'No bearer token was sent.',
  403: 'The request is refused.',
  404: 'Not found.',
  405: 'This method is not served on this path; `Allow` lists those that are.',
  413: 'The body is over the size limit.',
  415: 'The body is not JSON: send `content-type: application/json`.',
  422: 'The Idempotency-Key was used with a different request.',
  429: 'Too many requests; `retryAfter` and `Retry-After` say when to try again.',
  503: 'Temporarily unavailable (Redis cannot be reached, or a sending budget is spent); retry after `Retry-After`.',
}

const error = (code: string, message: string) => ({ error: code, message })

/** One example per error status, in the contract's shape, for answers whose route gave none. */
const STATUS_EXAMPLES: Record<string, Record<string, unknown>> = {
  400: error('invalid_body', 'invalid request body: body must have required property \'purpose\''),
  401: error('unauthorized', 'a bearer token is required'),
  403: error('forbidden', 'the bearer token is wrong'),
  404: error('not_found', 'not found'),
  405: error('method_not_allowed', 'this method is not allowed on this path'),
  413: error('payload_too_large', 'the request body is too large'),
  415: error('unsupported_media_type', 'send the body as JSON with content-type: application/json'),
  422: error('idempotency_mismatch', 'this Idempotency-Key was used with a different request'),
  429: { ...error('rate_limited', 'too many requests from this address'), retryAfter: 42 },
  503: error('unavailable', 'the service is temporarily unavailable'),
}

const INVALID_HOST = error('invalid_host', 'the Host header is not an allowed host')
const INVALID_HOST_NOTE = 'invalid_host (any route): the Host header is not in ALLOWED_HOSTS.'

const ErrorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string' }, message: { type: 'string' }, retryAfter: { type: 'integer' } },
  additionalProperties: true,
}

const RETRY_AFTER: Header = { description: 'seconds to wait before trying again', schema: { type: 'integer', minimum: 1, example: 42 } }
const WWW_AUTHENTICATE: Header = { description: 'the scheme to authenticate with', schema: { type: 'string', example: 'Bearer' } }

/** `post /v1/sms-codes/{requestId}` → `postV1SmsCodesRequestId`, for operations whose route named none. */
export function derivedOperationId(method: string, path: string): string {
  const words = [method, ...path.split(/[^A-Za-z0-9]+/).filter(Boolean)]
  return words.map((w, i) => (i === 0 ? w.toLowerCase() : w[0]!.toUpperCase() + w.slice(1))).join('')
}

function json(response: OpenApiResponse): MediaType {
  response.content ??= {}
  return (response.content['application/json'] ??= { schema: ErrorSchema })
}

type Schema = { example?: unknown, properties?: Record<string, { example?: unknown }> }

/** The example the route gave for the whole answer (TypeBox `examples` end up on the schema), if any. */
const routeExample = (media: MediaType): unknown => media.example ?? (media.schema as Schema | undefined)?.example

const exampleName = (value: unknown): string => String((value as { error?: unknown }).error ?? 'example')

/**
 * Every error answer gets its examples as a named map on the media type: the
 * route's own (TypeBox `examples`) when it gave one, else the status example.
 */
function completeResponse(status: string, response: OpenApiResponse) {
  if (!response.description || response.description === DEFAULT_DESCRIPTION) response.description = STATUS_DESCRIPTIONS[status] ?? `HTTP ${status}.`
  if (!/^[45]/.test(status)) return
  const media = json(response)
  if (media.examples === undefined) {
    const own = routeExample(media) ?? STATUS_EXAMPLES[status]
    if (own !== undefined) media.examples = { [exampleName(own)]: { value: own } }
  }
  delete media.example
  if (status === '429' || status === '503') response.headers = { 'Retry-After': RETRY_AFTER, ...response.headers }
  if (status === '401') response.headers = { 'WWW-Authenticate': WWW_AUTHENTICATE, ...response.headers }
}

/** Field examples of the shared error schema (`too_frequent` on a 413) would contradict the answer's own. */
function dropFieldExamples(media: MediaType) {
  const properties = (media.schema as Schema | undefined)?.properties
  if (media.examples === undefined || !properties) return
  // the schema object may be shared with other answers: replace it, do not edit it
  media.schema = { ...(media.schema as object), properties: Object.fromEntries(Object.entries(properties).map(([k, v]) => {
    const { example: _example, ...rest } = v
    return [k, rest]
  })) }
}

/** Adds an error answer the global plugins give, unless the route declared that status itself. */
function ensureResponse(op: OpenApiOperation, status: string) {
  if (op.responses[status]) return
  // a route without a 400 of its own (no body, no query) can still meet the Host check
  op.responses[status] = status === '400'
    ? { description: INVALID_HOST_NOTE, content: { 'application/json': { schema: ErrorSchema, examples: { invalid_host: { value: INVALID_HOST } } } } }
    : { description: STATUS_DESCRIPTIONS[status]!, content: { 'application/json': { schema: ErrorSchema } } }
}

/** Fills in what every operation must say; mutates and returns `doc`. */
export function completeDocument(doc: OpenApiDocument): OpenApiDocument {
  for (const [path, operations] of Object.entries(doc.paths)) {
    const probe = HOST_EXEMPT.has(path)
    for (const [method, op] of Object.entries(operations)) {
      op.operationId ??= derivedOperationId(method, path)
      // public unless the route says otherwise (the bulk route declares its bearer token)
      op.security ??= []
      if (!probe) {
        ensureResponse(op, '400')
        ensureResponse(op, '429') // the per-IP limit applies to every route but the probes
      }
      for (const [status, response] of Object.entries(op.responses)) completeResponse(status, response)
      if (!probe) {
        const refused = op.responses['400']!
        const media = json(refused)
        media.examples = { ...media.examples, invalid_host: { value: INVALID_HOST } }
        if (!refused.description.includes('invalid_host')) refused.description = `${refused.description} ${INVALID_HOST_NOTE}`
      }
      for (const [status, response] of Object.entries(op.responses)) if (/^[45]/.test(status)) dropFieldExamples(json(response))
    }
  }
  return doc
}
