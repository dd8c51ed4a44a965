import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import type { FastifyBaseLogger } from 'fastify'
import { Counter, Histogram } from 'prom-client'
import {
  applyReceipt, beijingTime, DELIVERY_LATENCY_METRIC, deliveryLatencySeconds, e164FromAliyun, partitionCount, RECEIPTS_METRIC, receiptLabels, safeEqual,
  type Config, type DeliveryReceipt, type E164, type RedisClient,
} from '@sms-verify/shared'
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

/** Aliyun's SmsReport batch push: a JSON array; fields it may add later are ignored. */
const AliyunReport = Type.Object({
  phone_number: Type.String({ examples: ['13812345678'] }),
  success: Type.Boolean(),
  biz_id: Type.Optional(Type.String({ examples: ['932702304080415357^0'] })),
  out_id: Type.Optional(Type.String({ description: 'the OutId of SendSms: our request id' })),
  send_time: Type.Optional(Type.String({ examples: ['2017-01-01 11:12:13'] })),
  report_time: Type.Optional(Type.String({ examples: ['2017-02-02 22:23:24'] })),
  err_code: Type.Optional(Type.String({ examples: ['DELIVERED', 'MK:0001'] })),
  err_msg: Type.Optional(Type.String({ examples: ['用户接收成功'] })),
  sms_size: Type.Optional(Type.String({ examples: ['1'] })),
})

/** Carriers push receipts in batches; the token is checked before a byte of the body is read. */
const CALLBACK_BODY_LIMIT = 1024 * 1024
const MAX_RECEIPTS = 10000

interface ReceiptRoute<S extends TSchema> {
  readonly provider: string
  readonly item: S
  /** the receipt, or undefined for an item that names no number we could have sent to */
  readonly toReceipt: (item: Static<S>, now: number, partitions: number) => DeliveryReceipt | undefined
  readonly answer: Record<string, string | number>
}

const tencent: ReceiptRoute<typeof TencentReceipt> = {
  provider: 'tencent',
  item: TencentReceipt,
  toReceipt(r, now) {
    const delivered = r.report_status === 'SUCCESS'
    return {
      provider: 'tencent', messageId: r.sid, delivered,
      mobile: `+${r.nationcode || '86'}${r.mobile.replace(/^\+/, '')}` as E164,
      reason: delivered ? '' : [r.errmsg, r.description].filter(Boolean).join(' '),
      at: beijingTime(r.user_receive_time, now),
    }
  },
  answer: { result: 0, errmsg: 'OK' },
}

/** Matched by out_id, the request id the sender put in OutId (and mapped when Aliyun accepted). */
const aliyun: ReceiptRoute<typeof AliyunReport> = {
  provider: 'aliyun',
  item: AliyunReport,
  toReceipt(r, now, partitions) {
    if (!r.out_id) return undefined
    const mobile = e164FromAliyun(r.phone_number, r.out_id, partitions)
    if (!mobile) return undefined
    return {
      provider: 'aliyun', messageId: r.out_id, mobile, delivered: r.success,
      reason: r.success ? '' : [r.err_code, r.err_msg].filter(Boolean).join(' '),
      at: beijingTime(r.report_time, now),
    }
  },
  answer: { code: 0, msg: '成功' },
}

/**
 * POST /v1/callbacks/<provider>/:token: delivery receipts. The token is checked
 * in onRequest, before the body is read or parsed, so a wrong token is 404
 * whatever it sends (bad JSON, a huge or non-JSON body) and learns nothing
 * about the route. The routes are exempt from the per-IP rate limit: carriers
 * post from few addresses at volume, and the secret token is their guard.
 * Receipts for unknown or already-final messages are counted and
 * acknowledged: the carrier would otherwise retry them forever.
 */
export const callbackRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const partitions = partitionCount(config)
  const registers = [app.metrics.registry]
  const received = new Counter({ ...RECEIPTS_METRIC, registers })
  const latency = new Histogram({ ...DELIVERY_LATENCY_METRIC, registers })

  async function apply(redis: RedisClient, r: DeliveryReceipt, log: FastifyBaseLogger): Promise<void> {
    const { result, queuedAt } = await applyReceipt(redis, config, r)
    received.inc(receiptLabels(r.provider, result, r.delivered ? 'delivered' : 'undelivered'))
    const seconds = deliveryLatencySeconds(r, result, queuedAt)
    if (seconds !== undefined) latency.observe({ provider: r.provider }, seconds)
    if (result !== 'applied') log.info({ provider: r.provider, result }, 'receipt ignored')
  }

  function route<S extends TSchema>(spec: ReceiptRoute<S>): void {
    const answer = Type.Object(Object.fromEntries(Object.entries(spec.answer).map(([k, v]) => [k, typeof v === 'number' ? Type.Integer() : Type.String()])))
    app.post(`/v1/callbacks/${spec.provider}/:token`, {
      schema: {
        hide: true,
        params: Type.Object({ token: Type.String() }),
        body: Type.Array(spec.item, { maxItems: MAX_RECEIPTS }),
        response: { 200: answer },
      },
      bodyLimit: CALLBACK_BODY_LIMIT,
      config: { rateLimit: false },
      onRequest: async (request) => {
        const expected = config.CALLBACK_TOKEN
        const token = (request.params as { token: string }).token
        if (expected === undefined || !safeEqual(token, expected)) throw errors.notFound()
      },
    }, async (request) => {
      const now = Date.now()
      await Promise.all((request.body as Array<Static<S>>).map(async (item) => {
        const receipt = spec.toReceipt(item, now, partitions)
        if (receipt) return apply(app.redis, receipt, request.log)
        received.inc(receiptLabels(spec.provider, 'unknown', 'unreadable'))
        request.log.info({ provider: spec.provider }, 'receipt without a number or message id ignored')
      }))
      return spec.answer
    })
  }

  route(tencent)
  route(aliyun)
}
