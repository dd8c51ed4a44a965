import t from 'tap'
import pino from 'pino'
import { startFakeAliyun, startRedis, waitFor } from '@sms-verify/testing'
import { createRedis, keys, partition, type E164 } from '@sms-verify/shared'
import { createAliyunProvider } from '../src/providers/aliyun.js'
import { AliyunPending } from '../src/providers/aliyun-receipts.js'
import { ReceiptPoller } from '../src/receipts/poller.js'
import type { ReceiptResult } from '../src/receipts/apply.js'
import { providerConfig, signal } from './helpers/provider-fakes.js'

const k = keys(partition(0, 1, false))
const beijingDate = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 10).replace(/-/g, '')

t.test('the poller asks QuerySendDetails about each accepted code message and applies the final ones', async (t) => {
  const server = await startRedis()
  const redis = createRedis({ REDIS_URL: server.url, REDIS_CLUSTER_NODES: [] })
  const fake = await startFakeAliyun()
  t.teardown(async () => { redis.disconnect(); await fake.stop(); await server.stop() })
  const config = providerConfig({ SMS_PROVIDER: 'aliyun', ALIYUN_SMS_ENDPOINT: fake.endpoint, SENDER_RECEIPT_POLL_SECONDS: '1' })
  const aliyun = createAliyunProvider(config)
  await aliyun.ready!()
  t.type(aliyun.pullReceipts, 'function', 'pullable when SENDER_RECEIPT_POLL_SECONDS is set')

  const sends = [['0-rcpt-aaaaaaaaaaaa', '+8613812345678'], ['0-rcpt-bbbbbbbbbbbb', '+8613812345679']] as const
  for (const [requestId, mobile] of sends) {
    const outcome = await aliyun.send({ requestId, mobile: mobile as E164, purpose: 'login', code: '123456', minutesValid: 5 }, signal())
    t.match(outcome, { kind: 'accepted', messageId: requestId })
    // what the sender writes when the provider accepted
    await redis.hset(k.request(requestId), 'requestId', requestId, 'status', 'sent', 'queuedAt', 1000, 'updatedAt', 1000)
    await redis.set(k.serial('aliyun', requestId), requestId)
  }
  fake.report(sends[0][0], true, 'DELIVERED', '2024-03-10 08:03:04')

  const seen: ReceiptResult[] = []
  const poller = new ReceiptPoller({ config, redis, providers: [aliyun], log: pino({ level: 'silent' }), observe: (_r, result) => seen.push(result) })
  t.teardown(() => poller.close())
  t.ok(poller.enabled)
  t.equal(await poller.tick(), 1)
  t.same(seen, ['applied'])
  t.match(await redis.hgetall(k.request(sends[0][0])), { status: 'delivered', deliveredAt: String(Date.parse('2024-03-10T08:03:04+08:00')) })
  t.equal(await redis.hget(k.request(sends[1][0]), 'status'), 'sent', 'still waiting for its receipt')

  const queries = fake.requests.filter((r) => r.action === 'QuerySendDetails')
  t.equal(queries.length, 2, 'one query per pending message')
  t.match(queries[0]!.query, { PhoneNumber: '13812345678', SendDate: beijingDate(Date.now()), BizId: fake.accepted[0]!.bizId, PageSize: '10', CurrentPage: '1' })
  t.same(fake.refused, [], 'the queries were signed correctly')

  t.equal(await poller.tick(), 0)
  t.equal(fake.requests.filter((r) => r.action === 'QuerySendDetails').length, 2, 'nothing is asked again within the poll interval')

  fake.report(sends[1][0], false, 'MK:0001')
  await waitFor(async () => (await poller.tick()) === 1, { timeout: 5000, what: 'the second receipt pulled once its interval passed' })
  t.match(await redis.hgetall(k.request(sends[1][0])), { status: 'undelivered', error: 'MK:0001' })
  const asked = fake.requests.filter((r) => r.action === 'QuerySendDetails').length
  t.equal(await poller.tick(), 0)
  t.equal(fake.requests.filter((r) => r.action === 'QuerySendDetails').length, asked, 'a settled message is not asked about again')
})

t.test('without SENDER_RECEIPT_POLL_SECONDS nothing is remembered and nothing is pulled', async (t) => {
  const fake = await startFakeAliyun()
  t.teardown(() => fake.stop())
  const aliyun = createAliyunProvider(providerConfig({ SMS_PROVIDER: 'aliyun', ALIYUN_SMS_ENDPOINT: fake.endpoint }))
  t.equal(aliyun.pullReceipts, undefined)
  t.equal(aliyun.receipts, true, 'the push still needs the OutId mapping')
})

t.test('pending messages: due once per interval, given up after 72 h, bounded', async (t) => {
  const pending = new AliyunPending(1000)
  const now = Date.now()
  pending.add({ requestId: 'old', mobile: '+8613800000001' as E164, bizId: undefined, sentAt: now - 73 * 3600_000 })
  pending.add({ requestId: 'a', mobile: '+8613800000002' as E164, bizId: 'b^0', sentAt: now })
  t.same(pending.due(now, 10).map((m) => m.requestId), ['a'], 'a message older than 72 h is dropped')
  t.equal(pending.size, 1)
  t.same(pending.due(now + 999, 10), [], 'not due again within the interval')
  t.same(pending.due(now + 1000, 10).map((m) => m.requestId), ['a'])
  pending.settle('a')
  t.equal(pending.size, 0)
})
