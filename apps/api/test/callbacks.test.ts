import t from 'tap'
import { keys, partition, partitionIndexOf, type E164 } from '@sms-verify/shared'
import { getStatus, makeApp, startTestRedis } from './helpers/app.js'

const TOKEN = 'callback-token-0123456789'
const url = (token: string) => `/v1/callbacks/tencent/${token}`

const receipt = (sid: string, mobile: string, status: 'SUCCESS' | 'FAIL', extra: Record<string, string> = {}) => ({
  user_receive_time: '2024-03-10 08:03:04', nationcode: '86', mobile, report_status: status,
  errmsg: status === 'SUCCESS' ? 'DELIVRD' : 'MK:0001', description: status === 'SUCCESS' ? '用户短信送达成功' : '空号', sid, ...extra,
})

t.test('no CALLBACK_TOKEN: the route answers 404', async (t) => {
  const server = await startTestRedis(t)
  const { app } = await makeApp(t, server)
  const res = await app.inject({ method: 'POST', url: url(TOKEN), payload: [] })
  t.equal(res.statusCode, 404)
})

t.test('a wrong token is 404, whatever the body', async (t) => {
  const server = await startTestRedis(t)
  const { app } = await makeApp(t, server, { CALLBACK_TOKEN: TOKEN })
  t.equal((await app.inject({ method: 'POST', url: url('callback-token-0123456788'), payload: [] })).statusCode, 404)
  t.equal((await app.inject({ method: 'POST', url: url('short'), payload: { not: 'an array' } })).statusCode, 404)
})

t.test('the token is checked before the body is read: a wrong token is 404 for bad JSON, a huge body or a non-JSON body', async (t) => {
  const server = await startTestRedis(t)
  const { app } = await makeApp(t, server, { CALLBACK_TOKEN: TOKEN })
  const wrong = url('callback-token-0123456788')
  const json = { 'content-type': 'application/json' }
  const huge = `[${Array.from({ length: 30_000 }, () => '{"mobile":"13800000000","report_status":"SUCCESS","sid":"x"}').join(',')}]`
  const cases: Array<[string, Record<string, string>, string]> = [
    ['bad JSON', json, '[{"sid":'],
    ['a body over the limit', json, huge],
    ['a text/plain body', { 'content-type': 'text/plain' }, 'hello'],
    ['an XML body', { 'content-type': 'application/xml' }, '<a/>'],
  ]
  for (const [what, headers, payload] of cases) {
    const res = await app.inject({ method: 'POST', url: wrong, headers, payload })
    t.equal(res.statusCode, 404, `wrong token, ${what}: 404`)
    t.equal(res.json().error, 'not_found')
  }
  // the same bodies with the right token reach the parser: that is where 400/413/415 come from
  const statuses = []
  for (const [, headers, payload] of cases) statuses.push((await app.inject({ method: 'POST', url: url(TOKEN), headers, payload })).statusCode)
  t.same(statuses, [400, 413, 415, 415])
})

t.test('the callback is exempt from the per-IP rate limit; other routes are not', async (t) => {
  const server = await startTestRedis(t)
  const { app } = await makeApp(t, server, { CALLBACK_TOKEN: TOKEN, RATE_LIMIT_PER_MINUTE: '3' })
  const ip = '203.0.113.7'
  for (let i = 0; i < 10; i++) {
    const res = await app.inject({ method: 'POST', url: url(TOKEN), payload: [], remoteAddress: ip })
    t.equal(res.statusCode, 200, `callback ${i + 1} from one address`)
  }
  const other = []
  for (let i = 0; i < 5; i++) other.push((await app.inject({ method: 'GET', url: '/v1/sms-codes/requests/0-nothing', remoteAddress: ip })).statusCode)
  t.ok(other.includes(429), `the general limit still applies elsewhere (${other.join(',')})`)
})

t.test('a batch of receipts: delivered, undelivered, unknown sid, late after verified', async (t) => {
  const server = await startTestRedis(t)
  const { app } = await makeApp(t, server, { CALLBACK_TOKEN: TOKEN, STREAM_PARTITIONS: '4' })
  const redis = server.client()
  // requests as the sender leaves them after Tencent accepted: status record + SerialNo → requestId
  const seed = async (requestId: string, mobile: string, sid: string, status: string) => {
    const e164 = `+86${mobile}` as E164
    const k = keys(partition(partitionIndexOf(e164, 4), 4, false))
    await redis.hset(k.request(requestId), 'requestId', requestId, 'kind', 'code', 'status', status, 'attempts', 1, 'provider', 'tencent',
      'messageId', sid, 'createdAt', 1000, 'queuedAt', 1000, 'updatedAt', 1000)
    await redis.set(k.serial('tencent', sid), requestId)
  }
  // a request id starts with its partition, as the send route makes it
  const ids = ['13800000001', '13800000002', '13800000003'].map((m, i) => `${partitionIndexOf(`+86${m}`, 4)}-${'abc'[i]!.repeat(16)}`)
  await seed(ids[0]!, '13800000001', 'sid-1', 'sent')
  await seed(ids[1]!, '13800000002', 'sid-2', 'sent')
  await seed(ids[2]!, '13800000003', 'sid-3', 'verified')

  const res = await app.inject({
    method: 'POST', url: url(TOKEN),
    payload: [
      receipt('sid-1', '13800000001', 'SUCCESS'),
      receipt('sid-2', '13800000002', 'FAIL'),
      receipt('sid-unknown', '13800000004', 'SUCCESS'),
      receipt('sid-3', '13800000003', 'SUCCESS'),
    ],
  })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { result: 0, errmsg: 'OK' })

  const at = Date.parse('2024-03-10T08:03:04+08:00')
  const rec = async (id: string, mobile: string) =>
    redis.hgetall(keys(partition(partitionIndexOf(`+86${mobile}`, 4), 4, false)).request(id))
  t.match(await rec(ids[0]!, '13800000001'), { status: 'delivered', deliveredAt: String(at) })
  t.match(await rec(ids[1]!, '13800000002'), { status: 'undelivered', undeliveredAt: String(at), error: 'MK:0001 空号' })
  t.match(await rec(ids[2]!, '13800000003'), { status: 'verified', deliveredAt: String(at) }, 'a late receipt only adds its timestamp')

  const status = await getStatus(app, ids[1]!)
  t.equal(status.statusCode, 200)
  t.match(status.body, { status: 'undelivered', error: 'MK:0001 空号' })

  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(metrics, /sms_receipts_total\{provider="tencent",result="applied",state="delivered"\} 1/)
  t.match(metrics, /sms_receipts_total\{provider="tencent",result="unknown",state="delivered"\} 1/)
  t.match(metrics, /sms_receipts_total\{provider="tencent",result="final",state="delivered"\} 1/)
  t.match(metrics, /sms_enqueue_to_delivered_seconds_count\{provider="tencent"\} 1/)

  // the same receipts again (Tencent retries): acknowledged, nothing moves back
  const again = await app.inject({ method: 'POST', url: url(TOKEN), payload: [receipt('sid-2', '13800000002', 'SUCCESS')] })
  t.same(again.json(), { result: 0, errmsg: 'OK' })
  t.equal((await rec(ids[1]!, '13800000002')).status, 'undelivered')
})
