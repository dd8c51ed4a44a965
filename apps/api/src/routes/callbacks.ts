import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { Counter, Histogram } from 'prom-client'
import { clusterMode, keys, partition, partitionCount, partitionIndexOf, safeEqual, type Config } from '@sms-verify/shared'
import { errors } from '../errors.js'

/** Tencent Cloud SMS's status callback: a JSON array, possibly several receipts per POST. */
const TencentReceipt = Type.Object({
  user_receive_time: Type.Optional(Type.String({ examples: ['2015-10-17 08:03:04'] })),
  nationcode: Type.Optional(Type.String({ examples: ['86'] })),
  mobile: Type.String({ examples: ['13800000000'] }),
  report_status: Type.String({ examples: ['SUCCESS', 'FAIL'] }),
  errmsg: Type.Optional(Type.String({ examples: ['DELIVRD'] })),
  description: Type.Optional(Type.String()),
  sid: Type.String({ description: 'the SerialNo SendSms returned' }),
})

const schema = {
  hide: true,
  params: Type.Object({ token: Type.String() }),
  body: Type.Array(TencentReceipt, { maxItems: 10000 }),
  response: { 200: Type.Object({ result: Type.Integer(), errmsg: Type.String() }) },
}

/** `2015-10-17 08:03:04` is Beijing time. */
function receiveTime(s: string | undefined, now: number): number {
  const t = s ? Date.parse(`${s.replace(' ', 'T')}+08:00`) : NaN
  return Number.isFinite(t) ? t : now
}

/** Tencent pushes receipts in batches; the token is checked before a byte of the body is read. */
const CALLBACK_BODY_LIMIT = 1024 * 1024

/**
 * POST /v1/callbacks/tencent/:token: delivery receipts. The token is checked in
 * onRequest, before the body is read or parsed, so a wrong token is 404 whatever
 * it sends (bad JSON, a huge or non-JSON body) and learns nothing about the
 * route. The route is exempt from the per-IP rate limit: the carrier posts from
 * few addresses at volume, and the secret token is its guard. Receipts for
 * unknown or already-final messages are counted and acknowledged: the carrier
 * would otherwise retry them forever.
 */
export const callbackRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const count = partitionCount(config)
  const cluster = clusterMode(config)
  const registers = [app.metrics.registry]
  const received = new Counter({ name: 'sms_receipts_total', help: 'delivery receipts by provider and result (applied, final, unknown) and end state', labelNames: ['provider', 'result', 'state'], registers })
  const latency = new Histogram({
    name: 'sms_enqueue_to_delivered_seconds', help: 'from queueing a send to the carrier reporting it delivered', labelNames: ['provider'],
    buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 900], registers,
  })

  app.post('/v1/callbacks/tencent/:token', {
    schema,
    bodyLimit: CALLBACK_BODY_LIMIT,
    config: { rateLimit: false },
    onRequest: async (request) => {
      const expected = config.CALLBACK_TOKEN
      const token = (request.params as { token: string }).token
      if (expected === undefined || !safeEqual(token, expected)) throw errors.notFound()
    },
  }, async (request) => {
    const now = Date.now()
    await Promise.all(request.body.map(async (r) => {
      const mobile = `+${r.nationcode || '86'}${r.mobile.replace(/^\+/, '')}`
      const k = keys(partition(partitionIndexOf(mobile, count), count, cluster))
      const delivered = r.report_status === 'SUCCESS'
      const reason = delivered ? '' : [r.errmsg, r.description].filter(Boolean).join(' ')
      const at = receiveTime(r.user_receive_time, now)
      const [code, queuedAt] = await app.redis.smsReceipt(k.serial('tencent', r.sid), at, delivered ? '1' : '0', reason, k.requestPrefix)
      const result = code === 1 ? 'applied' : code === -1 ? 'final' : 'unknown'
      received.inc({ provider: 'tencent', result, state: delivered ? 'delivered' : 'undelivered' })
      if (result === 'applied' && delivered && queuedAt) latency.observe({ provider: 'tencent' }, Math.max(0, at - Number(queuedAt)) / 1000)
      if (result !== 'applied') request.log.info({ result }, 'receipt ignored')
    }))
    return { result: 0, errmsg: 'OK' }
  })
}
