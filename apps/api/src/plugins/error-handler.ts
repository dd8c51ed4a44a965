import fp from 'fastify-plugin'
import { STATUS_CODES as HTTP_STATUS } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { ApiError, errors, isRedisOutage } from '../errors.js'
import { validationError } from './validation-error.js'

const STATUS_CODES: Record<number, string> = {
  400: 'invalid_body', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 405: 'method_not_allowed',
  406: 'not_acceptable', 408: 'request_timeout', 411: 'length_required', 413: 'payload_too_large',
  414: 'uri_too_long', 415: 'unsupported_media_type', 429: 'rate_limited', 431: 'headers_too_large',
}

/** Fastify's body errors, in sentences that say what to send (some of its own quote the request). */
const BODY_ERRORS: Record<string, () => ApiError> = {
  FST_ERR_CTP_EMPTY_JSON_BODY: () => errors.invalidBody('the body is empty; send a JSON object'),
  FST_ERR_CTP_INVALID_JSON_BODY: () => errors.invalidBody('the body is not valid JSON (or sets __proto__ or constructor.prototype)'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => errors.invalidBody('the body does not match its Content-Length'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: errors.unsupportedMediaType,
  FST_ERR_CTP_EMPTY_TYPE: errors.unsupportedMediaType,
  FST_ERR_CTP_INVALID_TYPE: errors.unsupportedMediaType,
  FST_ERR_CTP_BODY_TOO_LARGE: errors.payloadTooLarge,
}

/** Any error → the contract's `{error, message}` shape with its status and headers. */
export function toApiError(err: FastifyError | Error, request: FastifyRequest): ApiError {
  if (err instanceof ApiError) return err
  const fe = err as FastifyError
  if (fe.validation) return validationError(fe, request)
  if (isRedisOutage(err)) return errors.unavailable()
  const known = fe.code === undefined ? undefined : BODY_ERRORS[fe.code]
  if (known) return known()
  const status = fe.statusCode ?? 500
  if (status >= 400 && status < 500) {
    const code = STATUS_CODES[status] ?? 'bad_request'
    return new ApiError(status, code, (HTTP_STATUS[status] ?? 'bad request').toLowerCase())
  }
  request.log.error({ err }, 'unhandled error')
  return errors.internal()
}

export function sendError(reply: FastifyReply, e: ApiError): FastifyReply {
  return reply.code(e.statusCode).headers(e.headers).send(e.body())
}

/** The code for an error answer that was not ours: a 400 of unknown cause is a malformed request, not a body. */
function shapeCode(status: number): string {
  if (status === 400) return 'bad_request'
  if (status === 503) return 'unavailable'
  if (status >= 500) return 'internal'
  return STATUS_CODES[status] ?? 'bad_request'
}

const isJson = (type: unknown): boolean => typeof type === 'string' && /^application\/json\b/.test(type)

export const errorHandlerPlugin = fp(async (app) => {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const e = toApiError(err, request)
    if (e.statusCode === 503) request.log.warn({ reason: err.message }, 'answered 503')
    return sendError(reply, e)
  })

  // A plugin's own refusal (@fastify/cors's text/plain "Invalid Preflight Request") is put in the shape too.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (reply.statusCode < 400 || isJson(reply.getHeader('content-type'))) return done(null, payload)
    const status = reply.statusCode
    const e = new ApiError(status, shapeCode(status), (HTTP_STATUS[status] ?? 'error').toLowerCase())
    reply.removeHeader('content-length')
    reply.type('application/json; charset=utf-8')
    done(null, JSON.stringify(e.body()))
  })
}, { name: 'sms-error-handler' })
