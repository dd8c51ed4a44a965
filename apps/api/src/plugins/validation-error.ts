import type { FastifyError, FastifyRequest } from 'fastify'
import { PURPOSES } from '@sms-verify/shared'
import { ApiError, errors } from '../errors.js'

interface FieldRule {
  /** the error (status and code) a bad value of this field gets */
  readonly error: () => ApiError
  /** what the field takes, for a value of the wrong JSON type */
  readonly expects: string
}

/** A failure on one of these fields has its own code; anything else is invalid_body. */
const FIELDS: Record<string, FieldRule> = {
  mobile: { error: errors.invalidMobile, expects: 'a string such as "13812345678" or "+8613812345678"' },
  purpose: { error: errors.invalidPurpose, expects: `one of ${PURPOSES.map((p) => `"${p}"`).join(', ')}` },
  code: { error: errors.invalidCode, expects: 'a string of 4 to 10 digits (a number loses its leading zeros)' },
  requestId: { error: errors.notFound, expects: 'a request id' },
  'idempotency-key': { error: errors.invalidIdempotencyKey, expects: 'a string' },
}

/** The JSON type of a value, as a message says it: `a number`, `an array`, `null`. */
function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/** The value at a JSON pointer (`/mobiles/3`) inside the parsed request part. */
function valueAt(root: unknown, pointer: string): unknown {
  let value = root
  for (const key of pointer.split('/').slice(1)) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<string, unknown>)[key.replace(/~1/g, '/').replace(/~0/g, '~')]
  }
  return value
}

/** A property name safe and short enough to quote back; the client sent it, so nothing odd is repeated. */
const quotable = (name: unknown): string | undefined =>
  typeof name === 'string' && /^[\w.-]{1,40}$/.test(name) ? `"${name}"` : undefined

const withMessage = (e: ApiError, message: string) => new ApiError(e.statusCode, e.error, message, e.fields, e.headers)

/**
 * A schema failure → the contract's error: the field's own code where it has
 * one (invalid_mobile, invalid_code...), else invalid_body; the message names
 * the field and what it takes, and for a value of the wrong type what came.
 */
export function validationError(err: FastifyError, request: FastifyRequest): ApiError {
  const first = err.validation?.[0]
  const context = err.validationContext ?? 'body'
  if (context === 'headers') return errors.invalidIdempotencyKey()
  if (!first) return errors.invalidBody()
  const part = context === 'body' ? request.body : context === 'params' ? request.params : request.query
  const path = first.instancePath
  const field = path.split('/')[1]
  const name = path.split('/').slice(1).join('.')
  const rule = field === undefined ? undefined : FIELDS[field]
  const wrongType = first.keyword === 'type'

  if (rule) {
    const e = rule.error()
    return wrongType && path === `/${field}` ? withMessage(e, `${field} must be ${rule.expects}, not ${kindOf(valueAt(part, path))}`) : e
  }
  if (first.keyword === 'required') {
    const missing = String((first.params as { missingProperty?: unknown }).missingProperty ?? 'a field')
    return errors.invalidBody(`${name ? `${name}.` : ''}${missing} is required`)
  }
  if (first.keyword === 'additionalProperties') {
    const extra = quotable((first.params as { additionalProperty?: unknown }).additionalProperty) ?? 'a field'
    const taken = context === 'body' && path === '' ? Object.keys(bodyProperties(request)) : []
    return errors.invalidBody(`unknown field ${extra}${taken.length > 0 ? `; this route takes ${taken.join(', ')}` : ''}`)
  }
  if (wrongType && path === '') return errors.invalidBody(`the ${context} must be ${first.params.type === 'object' ? 'a JSON object' : `of type ${String(first.params.type)}`}, not ${kindOf(part)}`)
  if (wrongType) return errors.invalidBody(`${name} must be of type ${String(first.params.type)}, not ${kindOf(valueAt(part, path))}`)
  return errors.invalidBody(`${name || `the ${context}`} ${first.message ?? 'is invalid'}`)
}

/** The top-level properties of the route's body schema. */
function bodyProperties(request: FastifyRequest): Record<string, unknown> {
  const body = (request.routeOptions.schema as { body?: { properties?: Record<string, unknown> } } | undefined)?.body
  return body?.properties ?? {}
}
