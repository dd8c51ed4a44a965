import t from 'tap'
import { PassThrough } from 'node:stream'
import { codeOf, makeApp, startTestRedis, verifyCode } from './helpers/app.js'

t.test('a logged send and verify hold no code and no full mobile', async (t) => {
  const server = await startTestRedis(t)
  const stream = new PassThrough()
  let captured = ''
  stream.on('data', (chunk: Buffer) => { captured += chunk.toString('utf8') })
  const { app } = await makeApp(t, server, {}, { logStream: stream })
  const mobile = '13912345678'
  const sent = await app.inject({ method: 'POST', url: '/v1/sms-codes', payload: { mobile, purpose: 'register' } })
  t.equal(sent.statusCode, 202)
  const code = await codeOf(server, sent.json().requestId)
  t.equal((await verifyCode(app, { mobile, purpose: 'register', code: code === '000000' ? '111111' : '000000' })).statusCode, 400)
  t.equal((await verifyCode(app, { mobile, purpose: 'register', code })).statusCode, 200)
  // the legacy route carries the mobile in its URL
  t.equal((await app.inject({ method: 'GET', url: '/sms_codes/13912345679/' })).statusCode, 200)

  const lines = captured.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  const access = lines.filter((l) => l.msg === 'request completed' && (l.req as { url: string }).url !== '/readyz')
  t.equal(access.length, 4, 'one line per request')
  t.same(lines.filter((l) => l.reqId !== undefined && l.msg !== 'request completed').map((l) => l.msg), [],
    'no request writes a second line: its event rides on its access line')
  t.ok(access.some((l) => l.event === 'code queued' && l.mobile === '139****5678' && l.requestId === sent.json().requestId), 'the send is logged with a masked mobile')
  t.ok(access.some((l) => l.event === 'code checked' && l.outcome === 'wrong_code'), 'the wrong try is logged')
  t.ok(access.some((l) => l.event === 'code checked' && l.outcome === 'verified'), 'the verify is logged')
  t.ok(access.some((l) => (l.req as { url: string }).url === '/sms_codes/139****5679/'), 'the URL in the access line is masked')
  t.notOk(captured.includes(code), 'no code in the logs')
  t.notOk(/1391234567[89]/.test(captured), 'no full mobile in the logs')
})
