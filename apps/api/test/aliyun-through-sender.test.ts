import t from 'tap'
import { keys, numberFields } from '@sms-verify/shared'
import { fakeProviderEnv, startFakeAliyun, startSenderProcess, type RunningProcess } from '@sms-verify/testing'
import { getStatus, makeApp, sendCode, sendUntilSent, startTestRedis, verifyCode } from './helpers/app.js'
import { sendUntilCarrierRefuses } from './helpers/carrier-refusal.js'

// End to end: the API, a real sender process with the official Aliyun SDK, the fake Dysmsapi endpoint
// (which checks the SDK's ACS3 signature), and the SmsReport push Aliyun would make.

const TOKEN = 'callback-token-aliyun-through-sender'

t.test('send through Aliyun: OutId is the request id, the code reaches the template, the pushed reports end the records', async (t) => {
  const server = await startTestRedis(t)
  const fake = await startFakeAliyun()
  let sender: RunningProcess | undefined
  t.teardown(async () => { await sender?.kill('SIGKILL'); await fake.stop() })
  sender = await startSenderProcess({ REDIS_URL: server.url, SMS_PROVIDER: 'aliyun', ...fakeProviderEnv({ aliyun: fake.endpoint }) })
  const { app } = await makeApp(t, server, { CALLBACK_TOKEN: TOKEN })

  const { mobiles, ids, sent } = await sendUntilSent(t, app, 2)
  t.same(fake.refused, [], 'every call carried a valid signature')
  for (const [i, body] of sent.entries()) {
    const call = fake.accepted.find((a) => a.outId === ids[i])
    t.ok(call, 'Aliyun got the request id as OutId')
    t.same(call!.phoneNumbers, [mobiles[i]], 'a mainland number as 11 national digits')
    t.equal(call!.templateCode, 'SMS_100001', 'the register template')
    t.match(call!.templateParam, { code: /^\d{6}$/, minutes: '5' })
    t.match(body, { provider: 'aliyun', messageId: ids[i] }, 'the record names Aliyun and the OutId receipts match by')
  }

  // the code that went to Aliyun is the code that verifies
  const code = fake.accepted.find((a) => a.outId === ids[0])!.templateParam!.code!
  const verified = await verifyCode(app, { mobile: mobiles[0], purpose: 'register', code })
  t.equal(verified.statusCode, 200)

  const report = (i: number, success: boolean) => ({
    phone_number: mobiles[i]!, send_time: '2024-03-10 08:03:00', report_time: '2024-03-10 08:03:04', success,
    err_code: success ? 'DELIVERED' : 'MK:0001', err_msg: success ? '用户接收成功' : '空号', sms_size: '1',
    biz_id: fake.accepted.find((a) => a.outId === ids[i])!.bizId, out_id: ids[i]!,
  })
  const res = await app.inject({ method: 'POST', url: `/v1/callbacks/aliyun/${TOKEN}`, payload: [report(0, true), report(1, false)] })
  t.same(res.json(), { code: 0, msg: '成功' })

  const first = await getStatus(app, ids[0]!)
  t.equal(first.body.status, 'verified', 'a check end stays final')
  t.equal(first.body.timestamps.delivered, Date.parse('2024-03-10T08:03:04+08:00'), 'the receipt adds its timestamp')
  const second = await getStatus(app, ids[1]!)
  t.match(second.body, { status: 'undelivered', error: 'MK:0001 空号', provider: 'aliyun' })
})

t.test('isv.BUSINESS_LIMIT_CONTROL: dead letter carrier_limit, and the API answers 429 carrier_limit for the hour the message names', async (t) => {
  const fake = await startFakeAliyun()
  const { app, redis, p, mobile, number, requestId, letter: fields } = await sendUntilCarrierRefuses(t, await startTestRedis(t), 'aliyun', fake,
    { code: 'isv.BUSINESS_LIMIT_CONTROL', message: '触发小时级流控Permits:5' })
  t.match(fields, { requestId, reason: 'carrier_limit', mobile: number })
  t.match(fields.lastError, /isv\.BUSINESS_LIMIT_CONTROL/)
  const blockMs = Number(await redis.hget(keys(p).number(number), numberFields.carrierUntil)) - Date.now()
  t.ok(blockMs > 3_500_000 && blockMs <= 3_600_000, `the block lasts the hour (${blockMs} ms)`)

  const again = await sendCode(app, { mobile, purpose: 'register' })
  t.equal(again.statusCode, 429)
  const body = again.json() as { error: string, retryAfter: number }
  t.equal(body.error, 'carrier_limit')
  t.ok(body.retryAfter > 3500 && body.retryAfter <= 3600, `retryAfter ${body.retryAfter} s`)
  t.equal(again.headers['retry-after'], String(body.retryAfter))
  t.equal(fake.requests.filter((r) => r.action === 'SendSms').length, 1, 'Aliyun was asked once')
})
