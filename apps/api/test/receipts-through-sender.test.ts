import t from 'tap'
import { fakeProviderEnv, startFakeTencent, startSenderProcess, type RunningProcess } from '@sms-verify/testing'
import { getStatus, makeApp, sendUntilSent, startTestRedis } from './helpers/app.js'

// Delivery receipts end to end: API send → real sender process → real Tencent SDK → fake Tencent
// (which hands out SerialNo) → the receipt callback Tencent would post → the status record.

const TOKEN = 'callback-token-through-sender-0001'

t.test('send, the sender stores the SerialNo, the carrier posts receipts: delivered and undelivered', async (t) => {
  const server = await startTestRedis(t)
  const fake = await startFakeTencent()
  let sender: RunningProcess | undefined
  t.teardown(async () => { await sender?.kill('SIGKILL'); await fake.stop() })
  sender = await startSenderProcess({ REDIS_URL: server.url, SMS_PROVIDER: 'tencent', ...fakeProviderEnv({ tencent: fake.endpoint }) })
  const { app } = await makeApp(t, server, { CALLBACK_TOKEN: TOKEN })

  const { mobiles, ids, sent } = await sendUntilSent(t, app, 2)
  for (const [i, body] of sent.entries()) {
    const serial = fake.accepted.find((a) => a.mobile === `+86${mobiles[i]!}`)?.serialNo
    t.ok(serial, 'the fake handed out a SerialNo')
    t.match(body, { provider: 'tencent', messageId: serial }, 'the record carries the SerialNo')
  }

  const receipt = (i: number, status: 'SUCCESS' | 'FAIL') => ({
    user_receive_time: '2024-03-10 08:03:04', nationcode: '86', mobile: mobiles[i]!, report_status: status,
    errmsg: status === 'SUCCESS' ? 'DELIVRD' : 'MK:0001', description: status === 'SUCCESS' ? '用户短信送达成功' : '空号',
    sid: sent[i]!.messageId!,
  })
  const res = await app.inject({ method: 'POST', url: `/v1/callbacks/tencent/${TOKEN}`, payload: [receipt(0, 'SUCCESS'), receipt(1, 'FAIL')] })
  t.same(res.json(), { result: 0, errmsg: 'OK' })

  const delivered = await getStatus(app, ids[0]!)
  t.match(delivered.body, { status: 'delivered', provider: 'tencent' })
  t.equal(delivered.body.error, undefined, 'a delivered record carries no error')
  t.equal(delivered.body.timestamps.delivered, Date.parse('2024-03-10T08:03:04+08:00'))
  const undelivered = await getStatus(app, ids[1]!)
  t.match(undelivered.body, { status: 'undelivered', error: 'MK:0001 空号' })
})
