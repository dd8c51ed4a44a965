import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { partitionOfRequestId, REQUEST_ID_PATTERN, StatusSchema, UNCHECKED, type Status } from '@sms-verify/shared'
import type { ApiContext } from '../context.js'
import { errorResponses, errors } from '../errors.js'

const Millis = Type.Integer({ description: 'epoch milliseconds', examples: [1732512345678] })

const schema = {
  summary: 'Status of a send request',
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
      provider: Type.Optional(Type.String({ examples: ['tencent'] })),
      messageId: Type.Optional(Type.String({ description: "the provider's message id (Tencent SerialNo)" })),
      error: Type.Optional(Type.String({ description: 'why delivery failed, when it did' })),
      createdAt: Millis,
      updatedAt: Millis,
      expiresAt: Type.Optional(Millis),
      // the value schema has no `examples`: @fastify/swagger moves it under additionalProperties, where OpenAPI 3.0 forbids it
      timestamps: Type.Record(Type.String(), Type.Integer({ description: 'epoch milliseconds' }), { description: 'when each status was reached', examples: [{ queued: 1732512345678, sending: 1732512345690, sent: 1732512346012 }] }),
    }),
    ...errorResponses(404, 503),
  },
}

/** Fields of the record that are not `<status>At` timestamps. */
const NOT_STEPS = new Set(['createdAt', 'updatedAt', 'expiresAt'])

export const requestRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get('/v1/sms-codes/requests/:requestId', { schema }, async (request) => {
    const { requestId } = request.params
    const k = ctx.partitions[partitionOfRequestId(requestId)]
    if (!k) throw errors.notFound()
    const r = await app.redis.hgetall(k.request(requestId))
    if (r.status === undefined) throw errors.notFound()
    const kind = r.kind === 'bulk' ? 'bulk' as const : 'code' as const
    const expiresAt = r.expiresAt === undefined ? undefined : Number(r.expiresAt)
    let status = r.status as Status
    // Nothing writes "expired" when a code simply runs out unchecked; the read says it.
    if (kind === 'code' && UNCHECKED.has(status) && expiresAt !== undefined && expiresAt <= ctx.now()) status = 'expired'
    const timestamps: Record<string, number> = {}
    for (const [field, value] of Object.entries(r)) {
      if (field.endsWith('At') && !NOT_STEPS.has(field)) timestamps[field.slice(0, -2)] = Number(value)
    }
    if (status === 'expired' && timestamps.expired === undefined && expiresAt !== undefined) timestamps.expired = expiresAt
    return {
      requestId,
      kind,
      status,
      purpose: r.purpose,
      attempts: Number(r.attempts ?? 0),
      recipients: r.recipients === undefined ? undefined : Number(r.recipients),
      provider: r.provider,
      messageId: r.messageId,
      error: r.error ?? r.reason,
      createdAt: Number(r.createdAt ?? r.queuedAt ?? 0),
      updatedAt: Number(r.updatedAt ?? 0),
      expiresAt,
      timestamps,
    }
  })
}
