import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static } from '@sinclair/typebox'
import {
  BULK_MAX_RECIPIENTS_PER_JOB, bulkJobs, bulkScript, encodeJob, IDEMPOTENCY_TTL_MS, newRequestId, parseMobile, partitionIndexOf, safeEqual, type E164,
} from '@sms-verify/shared'
import type { ApiContext } from '../context.js'
import { ApiError, errorResponses, errors, refusal } from '../errors.js'
import { fingerprint, idempotencyKeyHash, idempotencyKeyOf } from '../idempotency.js'
import { ErrorAnswer, IdempotencyHeaders, Purpose } from '../schemas.js'
import { admitMobile } from '../admit-mobile.js'

const MAX_MOBILES = 10_000

const Rejected = Type.Array(Type.Object({
  mobile: Type.String(),
  error: Type.String({ description: 'invalid_mobile, region_not_allowed or duplicate' }),
}))

const Accepted = Type.Object({
  requestId: Type.String({ examples: ['3-Jq3v9xP2aL0mZ8kQ'] }),
  accepted: Type.Integer({ description: 'recipients queued', examples: [2] }),
  rejected: Rejected,
}, { description: 'The numbers that can be sent to are queued; `rejected` lists the others.' })

const schema = {
  summary: 'Send a notification to many numbers (admin)',
  operationId: 'sendNotification',
  description: `Needs \`Authorization: Bearer <ADMIN_TOKEN>\`; 404 while ADMIN_TOKEN is unset. Exactly one of purpose or templateId. Numbers are queued in jobs of at most ${BULK_MAX_RECIPIENTS_PER_JOB}, mainland (+86) and other numbers never in the same job (Tencent refuses mixed batches); duplicates and numbers that do not parse or are outside ALLOWED_REGIONS are listed in rejected. TEST_NUMBERS count as accepted but never reach a provider (their result reads sent, provider test). With Idempotency-Key, the same key and the same set of numbers (compared in E.164, however spelt), purpose/templateId and params within 24 h answer the first answer again.`,
  tags: ['notifications'],
  security: [{ bearer: [] }],
  headers: IdempotencyHeaders,
  body: Type.Object({
    mobiles: Type.Array(Type.String({ maxLength: 32 }), { minItems: 1, maxItems: MAX_MOBILES }),
    purpose: Type.Optional(Purpose),
    templateId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })),
    params: Type.Array(Type.String({ maxLength: 256 }), { maxItems: 16, default: [] }),
  }, { additionalProperties: false, examples: [{ mobiles: ['13812345678', '+8613912345678'], templateId: '1234567', params: ['周五', '10:00'] }] }),
  response: {
    202: Accepted,
    400: ErrorAnswer('invalid_mobile (no number in the list can be sent to; `rejected` says why each was refused), invalid_body or invalid_idempotency_key.',
      { error: 'invalid_mobile', message: 'no number in the list can be sent to', rejected: [{ mobile: '123', error: 'invalid_mobile' }] }),
    401: ErrorAnswer('unauthorized: no bearer token was sent.', { error: 'unauthorized', message: 'a bearer token is required' }),
    403: ErrorAnswer('forbidden: the bearer token is wrong.', { error: 'forbidden', message: 'the bearer token is wrong' }),
    404: ErrorAnswer('not_found: the route is off while ADMIN_TOKEN is unset.', { error: 'not_found', message: 'not found' }),
    ...errorResponses(413, 415, 422, 429, 503),
  },
}

type Answer = Static<typeof Accepted>

/**
 * The recipients as the Idempotency-Key compares them: each number in E.164
 * (a spelling that does not parse stays as sent), duplicates folded, sorted.
 * `13812345678` and `+86 138 1234 5678` are the same request.
 */
function sameNumbers(mobiles: readonly string[]): string {
  const normal = mobiles.map((m) => {
    const parsed = parseMobile(m)
    return parsed.ok ? parsed.e164 : m
  })
  return [...new Set(normal)].sort().join(',')
}

export const notificationRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const { config } = ctx
  app.post('/v1/sms/notifications', {
    schema,
    bodyLimit: 1024 * 1024,
    // before the body is read: an unauthenticated client never gets a large body parsed
    onRequest: async (request) => {
      const token = config.ADMIN_TOKEN
      if (token === undefined) throw errors.notFound()
      const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')
      if (!match) throw errors.unauthorized()
      if (!safeEqual(match[1]!, token)) throw errors.forbidden()
    },
  }, async (request, reply) => {
    const { mobiles, purpose, templateId, params } = request.body
    if ((purpose === undefined) === (templateId === undefined)) throw errors.invalidBody('exactly one of purpose or templateId')
    const idempotencyKey = idempotencyKeyOf(request.headers)

    const accepted: E164[] = []
    const seen = new Set<string>()
    const rejected: Answer['rejected'] = []
    for (const mobile of mobiles) {
      try {
        const e164 = admitMobile(mobile, config.ALLOWED_REGIONS)
        if (seen.has(e164)) rejected.push({ mobile, error: 'duplicate' })
        else { seen.add(e164); accepted.push(e164) }
      } catch (err) {
        rejected.push({ mobile, error: (err as ApiError).error })
      }
    }
    if (accepted.length === 0) throw new ApiError(400, 'invalid_mobile', 'no number in the list can be sent to', { rejected })

    // Test numbers never reach a provider: their result is written with the request.
    const testResults: Record<string, { status: 'sent', provider: 'test' }> = {}
    const real = accepted.filter((m) => {
      if (!config.TEST_NUMBERS.has(m)) return true
      testResults[m] = { status: 'sent', provider: 'test' }
      return false
    })
    const tests = accepted.length - real.length
    if (tests > 0) request.log.info({ testNumbers: tests }, 'bulk notification: test numbers answered without a provider')

    const now = ctx.now()
    const p = partitionIndexOf(idempotencyKey ?? randomUUID(), ctx.partitions.length)
    const k = ctx.partitions[p]!
    const requestId = newRequestId(p)
    const expiresAt = now + config.STATUS_TTL_SECONDS * 1000
    // Each job has its own id, lease and completion; the request's record counts what each did.
    const batches = bulkJobs({ requestId, mobiles: real, purpose, templateId, params, createdAt: now, expiresAt })
    const answer: Answer = { requestId, accepted: accepted.length, rejected }
    const idem = idempotencyKey === undefined ? undefined : idempotencyKeyHash(idempotencyKey)
    const print = idem === undefined ? '' : fingerprint(sameNumbers(mobiles), purpose ?? '', templateId ?? '', JSON.stringify(params))
    const result = bulkScript.reply(await app.redis.smsBulk(
      ...bulkScript.keys({ request: k.request(requestId), stream: k.jobs, idempotency: k.idempotency(idem ?? '-') }),
      ...bulkScript.args({
        now, requestId, idempotencyFingerprint: print, idempotencyTtlMs: IDEMPOTENCY_TTL_MS,
        statusTtlMs: expiresAt - now + config.STATUS_TTL_SECONDS * 1000, recipients: accepted.length, streamCap: config.STREAM_MAXLEN,
        answer: JSON.stringify(answer), expiresAt, testResults, jobs: batches.map(encodeJob),
      }),
    ))

    if (result.kind === 'replay') return reply.code(202).send(JSON.parse(result.answer) as Answer)
    if (result.kind !== 'ok') throw refusal(result.kind, result.kind === 'backlog_full' ? result.retryAfterMs : 0)
    request.logEvent = { event: 'bulk notification queued', requestId, recipients: accepted.length, jobs: batches.length, rejected: rejected.length, purpose, templateId }
    return reply.code(202).send(answer)
  })
}
