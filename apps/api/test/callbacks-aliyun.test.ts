import t from 'tap'
import { keys, partition, partitionIndexOf, type E164 } from '@sms-verify/shared'
import { getStatus, makeApp, startTestRedis } from './helpers/app.js'

// POST /v1/callbacks/aliyun/:token: Aliyun's SmsReport batch push, matched by out_id (the request id).

const TOKEN = 'callback-token-aliyun-0123456789'
const url = (token: string) => `/v1/callbacks/aliyun/${token}`

const report = (outId: string, phone: string, success: boolean, extra: Record<string, unknown> = {}) => ({
  phone_number: phone, send_time: '2024-03-10 08:03:00', report_time: '2024-03-10 08:03:04', success,
  err_code: success ? 'DELIVERED' : 'MK:0001', err_msg: success ? '用户接收成功' : '空号', sms_size: '1',
  biz_id: '932702304080415357^0', out_id: outId, ...extra,
})

t.test('the token gate: unset or wrong token is 404 whatever the body; the route is exempt from the per-IP limit', async (t) => {
  const server = await startTestRedis(t)
  const { app: off } = await makeApp(t, server)
  t.equal((await off.inject({ method: 'POST', url: url(TOKEN), payload: [] })).statusCode, 404, 'no CALLBACK_TOKEN')
  const { app } = await makeApp(t, server, { CALLBACK_TOKEN: TOKEN, RATE_LIMIT_PER_MINUTE: '3' })
  const wrong = url('callback-token-aliyun-0123456788')
  t.equal((await app.inject({ method: 'POST', url: wrong, payload: [] })).statusCode, 404)
  const bad = await app.inject({ method: 'POST', url: wrong, headers: { 'content-type': 'application/json' }, payload: '[{"phone_number":' })
  t.equal(bad.statusCode, 404, 'a wrong token never reaches the parser')
  t.equal(bad.json().error, 'not_found')
  for (let i = 0; i < 6; i++) {
    const res = await app.inject({ method: 'POST', url: url(TOKEN), payload: [], remoteAddress: '203.0.113.9' })
    t.equal(res.statusCode, 200, `push ${i + 1} from one address`)
    t.same(res.json(), { code: 0, msg: '成功' })
  }
  const malformed = await app.inject({ method: 'POST', url: url(TOKEN), payload: [{ phone_number: '13800000000' }] })
  t.equal(malformed.statusCode, 400, 'a report without success is refused in the contract shape')
  t.equal(malformed.json().error, 'invalid_body')
})

t.test('a batch of reports: delivered, undelivered, unknown out_id, international number, late after verified', async (t) => {
  const server = await startTestRedis(t)
  const { app } = await makeApp(t, server, { CALLBACK_TOKEN: TOKEN, STREAM_PARTITIONS: '4' })
  const redis = server.client()
  const kOf = (e164: string) => keys(partition(partitionIndexOf(e164, 4), 4, false))
  // requests as the sender leaves them after Aliyun accepted: status record + OutId (request id) → requestId
  const seed = async (requestId: string, e164: string, status: string) => {
    const k = kOf(e164)
    await redis.hset(k.request(requestId), 'requestId', requestId, 'kind', 'code', 'status', status, 'attempts', 1, 'provider', 'aliyun',
      'messageId', requestId, 'createdAt', 1000, 'queuedAt', 1000, 'updatedAt', 1000)
    await redis.set(k.serial('aliyun', requestId), requestId)
  }
  const numbers = ['+8613800000001', '+8613800000002', '+8613800000003', '+85291234567'] as E164[]
  const ids = numbers.map((m, i) => `${partitionIndexOf(m, 4)}-${'abcd'[i]!.repeat(16)}`)
  await seed(ids[0]!, numbers[0]!, 'sent')
  await seed(ids[1]!, numbers[1]!, 'sent')
  await seed(ids[2]!, numbers[2]!, 'verified')
  await seed(ids[3]!, numbers[3]!, 'sent')

  const res = await app.inject({
    method: 'POST', url: url(TOKEN),
    payload: [
      report(ids[0]!, '13800000001', true),
      report(ids[1]!, '13800000002', false),
      report('0-unknownunknownun', '13800000004', true),
      report(ids[2]!, '13800000003', true),
      report(ids[3]!, '85291234567', true, { future_field: 'ignored' }),
      report(ids[0]!, 'not-a-number', true),
    ],
  })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { code: 0, msg: '成功' })

  const at = Date.parse('2024-03-10T08:03:04+08:00')
  const rec = (i: number) => redis.hgetall(kOf(numbers[i]!).request(ids[i]!))
  t.match(await rec(0), { status: 'delivered', deliveredAt: String(at) })
  t.equal((await rec(0)).error, undefined, 'a delivered record carries no error')
  t.match(await rec(1), { status: 'undelivered', undeliveredAt: String(at), error: 'MK:0001 空号' })
  t.match(await rec(2), { status: 'verified', deliveredAt: String(at) }, 'a late receipt only adds its timestamp')
  t.match(await rec(3), { status: 'delivered' }, 'an international number is found in its own partition')

  const status = await getStatus(app, ids[1]!)
  t.match(status.body, { status: 'undelivered', error: 'MK:0001 空号', provider: 'aliyun' })

  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, /sms_receipts_total\{provider="aliyun",result="applied",state="delivered"\} 2/)
  t.match(metrics, /sms_receipts_total\{provider="aliyun",result="applied",state="undelivered"\} 1/)
  t.match(metrics, /sms_receipts_total\{provider="aliyun",result="unknown",state="delivered"\} 1/)
  t.match(metrics, /sms_receipts_total\{provider="aliyun",result="final",state="delivered"\} 1/)
  t.match(metrics, /sms_receipts_total\{provider="aliyun",result="unknown",state="unreadable"\} 1/)

  // Aliyun pushes again when it got no answer: acknowledged, nothing moves back
  const again = await app.inject({ method: 'POST', url: url(TOKEN), payload: [report(ids[1]!, '13800000002', true)] })
  t.same(again.json(), { code: 0, msg: '成功' })
  t.equal((await rec(1)).status, 'undelivered')
})

t.test('a Tencent receipt never matches an Aliyun send with the same id, nor the reverse', async (t) => {
  const server = await startTestRedis(t)
  const { app } = await makeApp(t, server, { CALLBACK_TOKEN: TOKEN })
  const redis = server.client()
  const k = keys(partition(0, 1, false))
  await redis.hset(k.request('0-tencentsenttttttt'), 'requestId', '0-tencentsenttttttt', 'status', 'sent', 'queuedAt', 1000, 'updatedAt', 1000)
  await redis.set(k.serial('tencent', '0-tencentsenttttttt'), '0-tencentsenttttttt')
  await app.inject({ method: 'POST', url: url(TOKEN), payload: [report('0-tencentsenttttttt', '13800000001', false)] })
  t.equal(await redis.hget(k.request('0-tencentsenttttttt'), 'status'), 'sent', 'the Aliyun route looks only at Aliyun mappings')
})
