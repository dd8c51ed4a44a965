import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { FAKE_RONGLIAN, startFakeRonglian } from '@sms-verify/testing'
import { ConfigError, type E164 } from '@sms-verify/shared'
import { createRonglianProvider } from '../src/providers/ronglian.js'
import { beijingTimestamp, nextShanghaiMidnight } from '../src/providers/carrier-window.js'
import { providerConfig, signal } from './helpers/provider-fakes.js'

const start = async (t: Test, env: Record<string, string> = {}) => {
  const fake = await startFakeRonglian()
  t.teardown(() => fake.stop())
  return { fake, provider: createRonglianProvider(providerConfig({ RONGLIAN_BASE_URL: fake.baseUrl, ...env })) }
}

t.test('TemplateSMS carries the purpose\'s template, [code, minutes] and national digits; sig and Authorization check out', async (t) => {
  const { fake, provider } = await start(t)
  for (const [purpose, template] of [['register', '1'], ['login', '2'], ['reset_password', '3']] as const) {
    const outcome = await provider.send({ requestId: 'r', mobile: '+8613812345678' as E164, purpose, code: '1234', minutesValid: 5 }, signal())
    t.equal(outcome.kind, 'accepted')
    t.same(fake.requests.at(-1)!.body, { to: '13812345678', appId: FAKE_RONGLIAN.appId, templateId: template, datas: ['1234', '5'] })
  }
  const foreign = await provider.send({ requestId: 'r', mobile: '+85261234567' as E164, purpose: 'login', code: '1234', minutesValid: 5 }, signal())
  t.equal(foreign.kind, 'accepted')
  t.equal(fake.requests.at(-1)!.body.to, '0085261234567', 'others as 00 + digits')
  const h = fake.requests[0]!.headers
  t.equal(h.accept, 'application/json;charset=utf-8')
  t.equal(h['content-type'], 'application/json;charset=utf-8')
  t.same(fake.refused, [])
})

t.test('the timestamp is Beijing time', async (t) => {
  t.equal(beijingTimestamp(Date.UTC(2024, 0, 31, 16, 5, 9)), '20240201000509')
  const sig = createHash('md5').update('a' + 'b' + '20240201000509').digest('hex').toUpperCase()
  t.match(sig, /^[0-9A-F]{32}$/)
})

t.test('a wrong auth token fails the sig check: permanent, nothing sent', async (t) => {
  const { fake, provider } = await start(t, { RONGLIAN_AUTH_TOKEN: 'wrongtoken000000000000000000000' })
  const outcome = await provider.send({ requestId: 'r', mobile: '+8613812345678' as E164, purpose: 'login', code: '1234', minutesValid: 5 }, signal())
  t.match(outcome, { kind: 'permanent', error: /^111108/ })
  t.same(fake.refused, ['111108'])
  t.equal(fake.requests.length, 0)
})

t.test('status codes by class', async (t) => {
  const { fake, provider } = await start(t)
  const cases: Array<[string, { statusCode: string } | { httpStatus: number }, string]> = [
    ['network 5xx', { httpStatus: 503 }, 'transient'],
    ['160050 send failed', { statusCode: '160050' }, 'transient'],
    ['172001 network', { statusCode: '172001' }, 'transient'],
    ['160032 bad template', { statusCode: '160032' }, 'permanent'],
    ['160034 blacklist', { statusCode: '160034' }, 'permanent'],
    ['112311 no such template', { statusCode: '112311' }, 'permanent'],
    ['111109 auth family', { statusCode: '111109' }, 'permanent'],
  ]
  for (const [i, [what, b, kind]] of cases.entries()) {
    const national = `1380000010${i}`
    fake.behaviour.set(national, b)
    const outcome = await provider.send({ requestId: 'r', mobile: `+86${national}` as E164, purpose: 'login', code: '1234', minutesValid: 5 }, signal())
    t.equal(outcome.kind, kind, what)
  }
})

t.test('000000 without a smsMessageSid is accepted (id unknown), never retried', async (t) => {
  const { fake, provider } = await start(t)
  fake.behaviour.set('13800000200', { statusCode: '000000', statusMsg: '成功' })
  const outcome = await provider.send({ requestId: 'r', mobile: '+8613800000200' as E164, purpose: 'login', code: '1234', minutesValid: 5 }, signal())
  t.same(outcome, { kind: 'accepted', messageId: '' })
  fake.behaviour.set('13800000201', { statusCode: '000000' })
  const bulk = await provider.sendBulk({ requestId: 'b', mobiles: ['+8613800000201' as E164, '+8613800000202' as E164], templateId: '77', params: [] }, signal())
  t.same(bulk.map((o) => o.kind), ['accepted', 'accepted'])
  t.equal(fake.requests.length, 2, 'one call each, no retry')
})

t.test('160038/160039/160040 are carrier limits: a minute, then the Shanghai day', async (t) => {
  const { fake, provider } = await start(t)
  for (const [i, [code, end]] of ([['160038', (n: number) => n + 60_000], ['160039', nextShanghaiMidnight], ['160040', nextShanghaiMidnight]] as const).entries()) {
    const national = `1390000010${i}`
    fake.behaviour.set(national, { statusCode: code })
    const before = Date.now()
    const outcome = await provider.send({ requestId: 'r', mobile: `+86${national}` as E164, purpose: 'login', code: '1234', minutesValid: 5 }, signal())
    t.equal(outcome.kind, 'carrier_limit', code)
    const until = outcome.kind === 'carrier_limit' ? outcome.blockedUntil : 0
    t.ok(until >= end(before) && until <= end(Date.now()), `${code} window`)
  }
})

t.test('a network error is transient', async (t) => {
  const { fake, provider } = await start(t)
  await fake.stop()
  const outcome = await provider.send({ requestId: 'r', mobile: '+8613812345678' as E164, purpose: 'login', code: '1234', minutesValid: 5 }, signal())
  t.equal(outcome.kind, 'transient')
})

t.test('bulk: up to 200 comma-joined numbers per call, one outcome per number', async (t) => {
  const { fake, provider } = await start(t)
  const mobiles = Array.from({ length: 200 }, (_, i) => `+8613${String(700000000 + i)}` as E164)
  const outcomes = await provider.sendBulk({ requestId: 'b', mobiles, templateId: '77', params: ['x'] }, signal())
  t.equal(outcomes.length, 200)
  t.ok(outcomes.every((o) => o.kind === 'accepted'))
  t.equal(fake.requests.length, 1)
  t.equal(fake.requests[0]!.body.to.split(',').length, 200)
  const tooMany = await provider.sendBulk({ requestId: 'b', mobiles: [...mobiles, '+8613900000000' as E164], templateId: '77', params: [] }, signal())
  t.ok(tooMany.every((o) => o.kind === 'permanent'))
  t.equal(fake.requests.length, 1)
})

t.test('missing variables are refused at startup with one line', async (t) => {
  const config = { ...providerConfig({ RONGLIAN_TEMPLATES: '' }), RONGLIAN_APP_ID: undefined }
  let err: unknown
  try { createRonglianProvider(config) } catch (e) { err = e }
  t.ok(err instanceof ConfigError)
  t.match((err as Error).message, /^invalid configuration: SMS_PROVIDER ronglian needs RONGLIAN_APP_ID, RONGLIAN_TEMPLATES \(no template for register, login, reset_password\)$/)
})
