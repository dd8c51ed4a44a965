import t from 'tap'
import { PassThrough } from 'node:stream'
import { freePort, waitFor } from '@sms-verify/testing'
import { Redis } from 'ioredis'
import { createApiLogger } from '../src/logger.js'
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

t.test('an error log line keeps err.code; a code under any key is still redacted', async (t) => {
  const stream = new PassThrough()
  let captured = ''
  stream.on('data', (chunk: Buffer) => { captured += chunk.toString('utf8') })
  const log = createApiLogger('info', stream)
  // a real connection error, as main.ts logs it while Redis is away
  const client = new Redis({ port: await freePort(), lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
  const err = await new Promise<Error>((resolve) => { client.once('error', resolve); client.connect().catch(() => undefined) })
  client.disconnect()
  log.warn({ err }, 'redis connection error')
  log.info({ code: '042917', job: { code: '042918' }, body: { mobile: '13912345678', code: '042919' } }, 'codes in the object')
  log.error({ err: Object.assign(new Error('odd'), { code: '042920' }) }, 'a digits-only error code')
  log.flush()
  await waitFor(() => captured.split('\n').length > 3, { what: 'three log lines' })
  const [connection, codes, digits] = captured.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>)
  t.equal(connection!.err.code, 'ECONNREFUSED', 'the cause of the outage survives')
  t.equal(codes!.code, '[redacted]')
  t.equal(codes!.job.code, '[redacted]')
  t.notOk(/04291[789]/.test(captured), 'no code under any key')
  t.equal(digits!.err.code, '[redacted]', 'an err.code that could be a verification code is redacted')
})

t.test('every other redacted path is censored whatever its value looks like', async (t) => {
  const stream = new PassThrough()
  let captured = ''
  stream.on('data', (chunk: Buffer) => { captured += chunk.toString('utf8') })
  const log = createApiLogger('info', stream)
  log.info({ sealed: 'AbCdEf_sealed-code', job: { sealed: 'Xy_sealed' }, authorization: 'SecretToken', body: 'Plain' }, 'secrets')
  log.flush()
  await waitFor(() => captured.includes('\n'), { what: 'the log line' })
  const line = JSON.parse(captured) as Record<string, any>
  t.same([line.sealed, line.job.sealed, line.authorization, line.body], Array(4).fill('[redacted]'))
})
