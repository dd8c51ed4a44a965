import t, { type Test } from 'tap'
import pino from 'pino'
import { startFakeTencent, startRedis } from '@sms-verify/testing'
import { createRedis, keys, partition, receiptScript, type E164 } from '@sms-verify/shared'
import { createTencentProvider } from '../src/providers/tencent.js'
import { applyReceipt } from '../src/receipts/apply.js'
import { ReceiptPoller } from '../src/receipts/poller.js'
import { providerConfig, signal } from './helpers/provider-fakes.js'

const k = keys(partition(0, 1, false))

async function rig(t: Test) {
  const server = await startRedis()
  const redis = createRedis({ REDIS_URL: server.url, REDIS_CLUSTER_NODES: [] })
  t.teardown(async () => { redis.disconnect(); await server.stop() })
  /** a request the sender saw accepted by Tencent with this SerialNo */
  const sent = async (requestId: string, serial: string, status = 'sent') => {
    await redis.hset(k.request(requestId), 'requestId', requestId, 'status', status, 'queuedAt', 1000, 'updatedAt', 1000)
    await redis.set(k.serial('tencent', serial), requestId)
  }
  return { redis, sent }
}

const receipt = (messageId: string, delivered: boolean, at = 5000) =>
  ({ provider: 'tencent', messageId, mobile: '+8613812345678' as E164, delivered, at, ...(delivered ? {} : { reason: 'MK:0001' }) })

t.test('receipt.lua: delivered and undelivered end states, unknown ids, forward only', async (t) => {
  const { redis, sent } = await rig(t)
  const config = providerConfig()
  await sent('r1', 's1')
  await sent('r2', 's2')
  await sent('r3', 's3', 'verified')

  t.same(await applyReceipt(redis, config, receipt('s1', true)), { result: 'applied', queuedAt: 1000 })
  t.match(await redis.hgetall(k.request('r1')), { status: 'delivered', deliveredAt: '5000', updatedAt: '5000' })

  t.same(await applyReceipt(redis, config, receipt('s2', false)), { result: 'applied', queuedAt: 1000 })
  t.match(await redis.hgetall(k.request('r2')), { status: 'undelivered', undeliveredAt: '5000', error: 'MK:0001' })

  t.same(await applyReceipt(redis, config, receipt('nope', true)), { result: 'unknown' })

  // a late receipt after the check ended only adds its timestamp
  t.same(await applyReceipt(redis, config, receipt('s3', true, 7000)), { result: 'final', queuedAt: 1000 })
  t.match(await redis.hgetall(k.request('r3')), { status: 'verified', deliveredAt: '7000' })

  // a second receipt for a delivered message does not flip it
  t.equal((await applyReceipt(redis, config, receipt('s1', false, 8000))).result, 'final')
  t.equal(await redis.hget(k.request('r1'), 'status'), 'delivered')
  t.equal(await redis.hget(k.request('r1'), 'error'), null, 'a late undelivered receipt leaves no reason on a delivered record')

  // a delivered receipt that carries a note (as PullSmsSendStatus's Description does) stores no error
  await sent('r4', 's4')
  t.equal((await applyReceipt(redis, config, { ...receipt('s4', true), reason: '用户短信送达成功' })).result, 'applied')
  t.equal(await redis.hget(k.request('r4'), 'error'), null)
  // the script itself only writes a reason when the record moves to undelivered
  await sent('r5', 's5')
  await redis.smsReceipt(...receiptScript.args({ serial: k.serial('tencent', 's5'), now: 9000, delivered: true, reason: 'DELIVRD', requestPrefix: k.requestPrefix }))
  t.equal(await redis.hget(k.request('r5'), 'error'), null)
})

t.test('the poller pulls PullSmsSendStatus from the fake Tencent and applies the receipts', async (t) => {
  const { redis, sent } = await rig(t)
  const fake = await startFakeTencent()
  t.teardown(() => fake.stop())
  const config = providerConfig({ TENCENT_SMS_ENDPOINT: fake.endpoint, SENDER_RECEIPT_POLL_SECONDS: '1' })
  const tencent = createTencentProvider(config)

  const accepted = await tencent.send({ requestId: 'r9', mobile: '+8613812345678' as E164, purpose: 'login', code: '123456', minutesValid: 5 }, signal())
  t.equal(accepted.kind, 'accepted')
  const serial = accepted.kind === 'accepted' ? accepted.messageId : ''
  await sent('r9', serial)
  fake.receipts.push(
    { SerialNo: serial, PhoneNumber: '+8613812345678', ReportStatus: 'SUCCESS', Description: '用户短信送达成功', UserReceiveTime: 1700000000 },
    { SerialNo: 'unknown-serial', PhoneNumber: '+8613812345679', ReportStatus: 'FAIL', Description: 'MK:0001' })

  const seen: string[] = []
  const poller = new ReceiptPoller({ config, redis, providers: [tencent], log: pino({ level: 'silent' }), observe: (_r, result) => seen.push(result) })
  t.teardown(() => poller.close())
  t.ok(poller.enabled)
  t.equal(await poller.tick(), 1)
  t.same(seen, ['applied', 'unknown'])
  t.match(await redis.hgetall(k.request('r9')), { status: 'delivered', deliveredAt: '1700000000000' })
  t.equal(await redis.hget(k.request('r9'), 'error'), null, 'the delivered Description is not stored as an error')
  t.equal(await poller.tick(), 0, 'nothing left to pull')
  t.equal(fake.requests.filter((r) => r.action === 'PullSmsSendStatus').length, 2)
})

t.test('the poller is off without SENDER_RECEIPT_POLL_SECONDS or a pullable provider', async (t) => {
  const { redis } = await rig(t)
  const log = pino({ level: 'silent' })
  t.notOk(new ReceiptPoller({ config: providerConfig(), redis, providers: [createTencentProvider(providerConfig())], log }).enabled)
  const noPull = { name: 'x', send: async () => ({ kind: 'permanent' as const, error: '' }), sendBulk: async () => [] }
  const off = new ReceiptPoller({ config: providerConfig({ SENDER_RECEIPT_POLL_SECONDS: '1' }), redis, providers: [noPull], log })
  t.notOk(off.enabled)
  off.start()
  await off.close()
  await off.close()
})
