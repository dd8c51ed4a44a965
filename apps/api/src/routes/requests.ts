import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { decodeStatusRecord, maskMobile, partitionOfRequestId, REQUEST_ID_PATTERN, statusOnRead, StatusSchema, type NumberResult } from '@sms-verify/shared'
import type { ApiContext } from '../context.js'
import { errorResponses, errors } from '../errors.js'
import { ErrorAnswer } from '../schemas.js'

const Millis = Type.Integer({ description: 'epoch milliseconds', examples: [1732512345678] })

const schema = {
  summary: 'Status of a send request',
  operationId: 'getRequestStatus',
  description: 'The whole story of one request: delivery (queued → sending → sent → delivered | undelivered, or failed / expired) and how its check ended (verified, burnt, superseded, expired).',
  tags: ['codes'],
  params: Type.Object({ requestId: Type.String({ pattern: REQUEST_ID_PATTERN, examples: ['0-Jq3v9xP2aL0mZ8kQ'] }) }),
  response: {
    200: Type.Object({
      requestId: Type.String(),
      kind: Type.Union([Type.Literal('code'), Type.Literal('bulk')]),
      status: StatusSchema,
      purpose: Type.Optional(Type.String()),
      attempts: Type.Integer(),
      recipients: Type.Optional(Type.Integer({ description: 'bulk: numbers queued' })),
      sent: Type.Optional(Type.Integer({ description: 'bulk: numbers a provider accepted so far' })),
      failed: Type.Optional(Type.Integer({ description: 'bulk: numbers that failed for good' })),
      results: Type.Optional(Type.Array(Type.Object({
        mobile: Type.String({ description: 'masked: this route needs no token, so it never shows a whole number', examples: ['138****5678'] }),
        status: Type.String({ examples: ['sent'] }),
        provider: Type.Optional(Type.String()),
        error: Type.Optional(Type.String()),
      }), { description: 'bulk: the outcome per number' })),
      provider: Type.Optional(Type.String({ examples: ['tencent'] })),
      messageId: Type.Optional(Type.String({ description: "the provider's message id (Tencent SerialNo)" })),
      error: Type.Optional(Type.String({ description: 'why delivery failed, when it did' })),
      createdAt: Millis,
      updatedAt: Millis,
      expiresAt: Type.Optional(Millis),
      // the value schema has no `examples`: @fastify/swagger moves it under additionalProperties, where OpenAPI 3.0 forbids it
      timestamps: Type.Record(Type.String(), Type.Integer({ description: 'epoch milliseconds' }), { description: 'when each status was reached', examples: [{ queued: 1732512345678, sending: 1732512345690, sent: 1732512346012 }] }),
    }, { description: 'The request and where it stands.' }),
    404: ErrorAnswer('not_found: no such request, or its record has expired (STATUS_TTL_SECONDS).', { error: 'not_found', message: 'not found' }),
    429: ErrorAnswer('rate_limited: too many requests from this address (RATE_LIMIT_PER_MINUTE).', { error: 'rate_limited', message: 'too many requests from this address', retryAfter: 12 }),
    ...errorResponses(503),
  },
}

/** A bulk record's per-number outcomes, masked: this route needs no token. */
function maskedResults(results: Record<string, NumberResult>) {
  return Object.entries(results).map(([mobile, r]) => ({ mobile: maskMobile(mobile), status: r.status, provider: r.provider, error: r.error }))
}

export const requestRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get('/v1/sms-codes/requests/:requestId', { schema }, async (request) => {
    const { requestId } = request.params
    const k = ctx.partitions[partitionOfRequestId(requestId)]
    if (!k) throw errors.notFound()
    const r = decodeStatusRecord(await app.redis.hgetall(k.request(requestId)))
    if (!r) throw errors.notFound()
    const { status, timestamps } = statusOnRead(r, ctx.now())
    return {
      requestId,
      kind: r.kind,
      status,
      purpose: r.purpose,
      attempts: r.attempts,
      recipients: r.recipients,
      sent: r.sent,
      failed: r.failed,
      results: r.results && maskedResults(r.results),
      provider: r.provider,
      messageId: r.messageId,
      error: r.error,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
      expiresAt: r.expiresAt,
      timestamps,
    }
  })
}
