import fp from 'fastify-plugin'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { ApiError, errors, isRedisOutage } from '../errors.js'

/** A validation failure on one of these fields has its own code; anything else is invalid_body. */
const FIELD_ERRORS: Record<string, () => ApiError> = {
  mobile: errors.invalidMobile,
  purpose: errors.invalidPurpose,
  code: errors.invalidCode,
  requestId: errors.notFound,
  'idempotency-key': errors.invalidIdempotencyKey,
}

const STATUS_CODES: Record<number, string> = {
  400: 'invalid_body', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 405: 'method_not_allowed',
  406: 'not_acceptable', 408: 'request_timeout', 411: 'length_required', 413: 'payload_too_large',
  414: 'uri_too_long', 415: 'unsupported_media_type', 429: 'rate_limited', 431: 'headers_too_large',
}

function fromValidation(err: FastifyError): ApiError {
  const first = err.validation?.[0]
  // A present-but-wrong field names itself in the path; a missing one is a malformed body.
  const field = first?.instancePath.split('/')[1]
  const specific = field === undefined ? undefined : FIELD_ERRORS[field]
  if (specific) return specific()
  if (err.validationContext === 'headers') return errors.invalidIdempotencyKey()
  return errors.invalidBody(`${err.validationContext ?? 'body'}${first?.instancePath ?? ''} ${first?.message ?? 'is invalid'}`)
}

/** Any error → the contract's `{error, message}` shape with its status and headers. */
export function toApiError(err: FastifyError | Error, request: FastifyRequest): ApiError {
  if (err instanceof ApiError) return err
  const fe = err as FastifyError
  if (fe.validation) return fromValidation(fe)
  if (isRedisOutage(err)) return errors.unavailable()
  const status = fe.statusCode ?? 500
  if (status === 413) return errors.payloadTooLarge()
  if (status >= 400 && status < 500) {
    return new ApiError(status, STATUS_CODES[status] ?? 'bad_request', status === 400 ? `invalid request: ${err.message}` : err.message)
  }
  request.log.error({ err }, 'unhandled error')
  return errors.internal()
}

export function sendError(reply: FastifyReply, e: ApiError): FastifyReply {
  return reply.code(e.statusCode).headers(e.headers).send(e.body())
}

export const errorHandlerPlugin = fp(async (app) => {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const e = toApiError(err, request)
    if (e.statusCode === 503) request.log.warn({ reason: err.message }, 'answered 503')
    return sendError(reply, e)
  })
  app.setNotFoundHandler((_request, reply) => sendError(reply, new ApiError(404, 'not_found', 'no such route')))
}, { name: 'sms-error-handler' })
