import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import t, { type Test } from 'tap'
import { startFakeAliyun, type AliyunBehaviour } from '@sms-verify/testing'
import { ConfigError, configSchema, loadConfig, type E164 } from '@sms-verify/shared'
import { ALIYUN_MAX_NUMBERS, createAliyunProvider, parseAliyunEndpoint, templateParam } from '../src/providers/aliyun.js'
import { aliyunClass, businessLimitWindow } from '../src/providers/aliyun-errors.js'
import { nextShanghaiMidnight } from '../src/providers/carrier-window.js'
import { providerConfig, signal } from './helpers/provider-fakes.js'

const start = async (t: Test, env: Record<string, string> = {}) => {
  const fake = await startFakeAliyun()
  t.teardown(() => fake.stop())
  const provider = createAliyunProvider(providerConfig({ SMS_PROVIDER: 'aliyun', ALIYUN_SMS_ENDPOINT: fake.endpoint, ...env }))
  // the SDK loads lazily; a loaded machine takes seconds, which the calls' 5 s signal should not measure
  await provider.ready!()
  return { fake, provider }
}
const code = (mobile: string, purpose: 'register' | 'login' | 'reset_password' = 'login') =>
  ({ requestId: `0-req-${mobile.slice(-6)}`, mobile: mobile as E164, purpose, code: '482913', minutesValid: 5 })

t.test('SendSms carries sign, the purpose\'s template, {code, minutes}, OutId and Aliyun\'s number forms, signed ACS3-HMAC-SHA256', async (t) => {
  const { fake, provider } = await start(t)
  for (const [purpose, template] of [['register', 'SMS_100001'], ['login', 'SMS_100002'], ['reset_password', 'SMS_100003']] as const) {
    const outcome = await provider.send(code('+8613812345678', purpose), signal())
    t.match(outcome, { kind: 'accepted', messageId: '0-req-345678' }, 'the message id is the OutId receipts come back with')
    const req = fake.requests.at(-1)!
    t.equal(req.action, 'SendSms')
    t.equal(req.headers['x-acs-version'], '2017-05-25')
    t.match(String(req.headers.authorization), /^ACS3-HMAC-SHA256 Credential=LTAIfakeAliyunAccessKey0,SignedHeaders=host;x-acs-action;[^,]+,Signature=[0-9a-f]{64}$/)
    t.same(req.query, {
      PhoneNumbers: '13812345678', SignName: '阿里云短信测试', TemplateCode: template,
      TemplateParam: '{"code":"482913","minutes":"5"}', OutId: '0-req-345678',
    })
  }
  // a number outside the mainland: country code and number, no + or 00
  t.equal((await provider.send(code('+85291234567'), signal())).kind, 'accepted')
  t.equal(fake.requests.at(-1)!.query.PhoneNumbers, '85291234567')
  t.same(fake.refused, [])
})

t.test('the fake checks what Aliyun checks: a replayed nonce, a tampered query or body, a missing signed header', async (t) => {
  const { fake, provider } = await start(t)
  t.equal((await provider.send(code('+8613812345678'), signal())).kind, 'accepted')
  const original = fake.requests[0]!
  const replay = async (query: Record<string, string>, headers: Record<string, string> = {}, body?: string) => {
    const h = Object.fromEntries(Object.entries(original.headers).filter(([k]) => k !== 'content-length' && k !== 'connection').map(([k, v]) => [k, String(v)]))
    const res = await fetch(`${fake.endpoint}/?${new URLSearchParams(query).toString().replace(/\+/g, '%20')}`, { method: 'POST', headers: { ...h, ...headers }, ...(body === undefined ? {} : { body }) })
    return { status: res.status, body: await res.json() as { Code: string, Message: string, RequestId: string } }
  }
  const same = await replay(original.query)
  t.equal(same.status, 400)
  t.match(same.body, { Code: 'SignatureNonceUsed', RequestId: /.+/ }, 'a signature is good for one request')
  const tampered = await replay({ ...original.query, PhoneNumbers: '13900000000' }, { 'x-acs-signature-nonce': 'fresh-nonce-1' })
  t.match(tampered, { status: 400, body: { Code: 'SignatureDoesNotMatch' } }, 'another number under the same signature')
  const body = await replay(original.query, { 'x-acs-signature-nonce': 'fresh-nonce-2' }, 'PhoneNumbers=13900000000')
  t.match(body, { status: 400, body: { Code: 'SignatureDoesNotMatch' } }, 'a body that does not match x-acs-content-sha256')
  const auth = String(original.headers.authorization).replace('host;x-acs-action;', 'x-acs-action;')
  t.match(await replay(original.query, { authorization: auth, 'x-acs-signature-nonce': 'fresh-nonce-3' }), { status: 400, body: { Code: 'IncompleteSignature' } })
  t.same(fake.refused, ['SignatureNonceUsed', 'SignatureDoesNotMatch', 'SignatureDoesNotMatch', 'IncompleteSignature'])
  t.equal(fake.accepted.length, 1, 'nothing refused was sent')
})

t.test('a wrong AccessKey: alone it fails for good at once; in a failover list it is the vendor\'s and fails over', async (t) => {
  for (const [what, env, refusal] of [
    ['a wrong secret', { ALIYUN_ACCESS_KEY_SECRET: 'not-the-right-secret-000000000' }, 'SignatureDoesNotMatch'],
    ['an unknown AccessKey id', { ALIYUN_ACCESS_KEY_ID: 'LTAIunknownAccessKeyId00' }, 'InvalidAccessKeyId.NotFound'],
  ] as const) {
    const { fake, provider } = await start(t, env)
    t.match(await provider.send(code('+8613812345678'), signal()), { kind: 'permanent', error: new RegExp(refusal.replace('.', '\\.')) }, `${what}, Aliyun alone: permanent`)
    const chained = createAliyunProvider(providerConfig({ SMS_PROVIDER: 'tencent,aliyun', ALIYUN_SMS_ENDPOINT: fake.endpoint, ...env }))
    t.match(await chained.send(code('+8613812345678'), signal()), { kind: 'transient', error: new RegExp(refusal.replace('.', '\\.')) }, `${what}, in a list: transient`)
    t.same(fake.refused, [refusal, refusal])
    t.equal(fake.accepted.length, 0)
    const outcome = await chained.send(code('+8613812345678'), signal())
    t.notMatch(outcome.kind === 'accepted' ? '' : outcome.error, /not-the-right-secret/, 'the secret is never echoed')
  }
})

t.test('every mapped class, through the SDK and the fake', async (t) => {
  const { fake, provider } = await start(t)
  const cases: Array<[Exclude<AliyunBehaviour, { stall: true }>, string]> = [
    [{ code: 'isv.MOBILE_NUMBER_ILLEGAL', message: '非法手机号' }, 'permanent'],
    [{ code: 'isv.AMOUNT_NOT_ENOUGH', message: '账户余额不足' }, 'transient'],
    [{ code: 'isv.ACCOUNT_ABNORMAL', message: '账户异常' }, 'transient'],
    [{ code: 'isv.OUT_OF_SERVICE', message: '业务停机' }, 'transient'],
    [{ code: 'isv.SMS_SIGNATURE_ILLEGAL', message: '短信签名不合法' }, 'transient'],
    [{ code: 'isv.SMS_TEMPLATE_ILLEGAL', message: '短信模板不合法' }, 'transient'],
    [{ code: 'isv.DAY_LIMIT_CONTROL', message: '触发日发送限额' }, 'transient'],
    [{ code: 'isp.SYSTEM_ERROR', message: '系统错误' }, 'transient'],
    [{ httpStatus: 400, code: 'Throttling.User', message: 'Request was denied due to user flow control.' }, 'transient'],
    [{ httpStatus: 503, code: 'ServiceUnavailable', message: 'The request has failed due to a temporary failure of the server.' }, 'transient'],
    [{ httpStatus: 500, code: 'InternalError', message: 'The request processing has failed due to some unknown error.' }, 'transient'],
    [{ code: 'isv.SOMETHING_NEW', message: 'a code Aliyun adds tomorrow' }, 'transient'],
    [{ code: 'isv.BUSINESS_LIMIT_CONTROL', message: '触发分钟级流控Permits:1' }, 'carrier_limit'],
  ]
  for (const [i, [behaviour, kind]] of cases.entries()) {
    const mobile = `+86138000${String(i).padStart(5, '0')}`
    fake.behaviour.set(mobile, behaviour)
    const outcome = await provider.send(code(mobile), signal())
    t.equal(outcome.kind, kind, `${behaviour.code} → ${kind}`)
    t.match(outcome.kind === 'accepted' ? '' : outcome.error, behaviour.code, 'the error names the code')
  }
  t.equal(fake.accepted.length, 0)
  t.same(fake.refused, [], 'all were signed correctly; the errors are the programmed answers')
})

t.test('the fake\'s own refusals of what the SDK sends: a wrong sign name, a number with +', async (t) => {
  const { fake, provider } = await start(t, { ALIYUN_SMS_SIGN_NAME: '没有这个签名' })
  t.match(await provider.send(code('+8613812345678'), signal()), { kind: 'transient', error: /isv\.SMS_SIGNATURE_ILLEGAL/ })
  t.equal(fake.accepted.length, 0)
})

t.test('isv.BUSINESS_LIMIT_CONTROL blocks for the window its message names', async (t) => {
  const { fake, provider } = await start(t)
  const cases: Array<[string, (now: number) => number]> = [
    ['触发分钟级流控Permits:1', (now) => now + 60_000],
    ['触发小时级流控Permits:5', (now) => now + 3_600_000],
    ['触发天级流控Permits:10', (now) => nextShanghaiMidnight(now)],
    ['业务限流', (now) => now + 60_000],
  ]
  for (const [i, [message, end]] of cases.entries()) {
    const mobile = `+86139000${String(i).padStart(5, '0')}`
    fake.behaviour.set(mobile, { code: 'isv.BUSINESS_LIMIT_CONTROL', message })
    const before = Date.now()
    const outcome = await provider.send(code(mobile), signal())
    const after = Date.now()
    t.equal(outcome.kind, 'carrier_limit', message)
    const until = outcome.kind === 'carrier_limit' ? outcome.blockedUntil : 0
    t.ok(until >= end(before) && until <= end(after), `${message}: blocked until the window ends`)
  }
  t.same(businessLimitWindow('触发天级流控Permits:10'), 'day')
  t.same(businessLimitWindow('触发小时级流控Permits:5'), { seconds: 3600 })
})

t.test('the documented codes have a class on purpose; families and unknown codes', async (t) => {
  t.equal(aliyunClass('isv.MOBILE_NUMBER_ILLEGAL'), 'permanent')
  t.equal(aliyunClass('isv.BUSINESS_LIMIT_CONTROL'), 'business_limit')
  for (const c of ['isv.AMOUNT_NOT_ENOUGH', 'isv.ACCOUNT_ABNORMAL', 'isv.SMS_SIGNATURE_ILLEGAL', 'isv.SMS_TEMPLATE_ILLEGAL', 'Throttling', 'Throttling.Api', 'isp.GATEWAY_ERROR', 'isv.NEW_CODE']) {
    t.equal(aliyunClass(c), 'vendor', c)
  }
  for (const c of ['InvalidAccessKeyId.NotFound', 'InvalidAccessKeyId.Inactive', 'InvalidAccessKeyId.Other', 'SignatureDoesNotMatch']) t.equal(aliyunClass(c), 'credentials', c)
})

t.test('bulk: comma-joined PhoneNumbers, one outcome per number, at most 1000 numbers per SendSms', async (t) => {
  const { fake, provider } = await start(t)
  const mobiles = Array.from({ length: 1500 }, (_, i) => `+86137${String(i).padStart(8, '0')}` as E164)
  const outcomes = await provider.sendBulk({ requestId: '0-bulk-1', mobiles, templateId: 'SMS_200001', params: ['day=周五', '10:00'] }, signal())
  t.equal(outcomes.length, 1500)
  t.ok(outcomes.every((o) => o.kind === 'accepted'))
  const calls = fake.requests.filter((r) => r.action === 'SendSms')
  t.same(calls.map((c) => c.query.PhoneNumbers!.split(',').length), [ALIYUN_MAX_NUMBERS, 500], 'two calls of 1000 and 500')
  t.equal(calls[0]!.query.PhoneNumbers!.split(',')[0], '13700000000')
  t.same(JSON.parse(calls[0]!.query.TemplateParam!), { day: '周五', p2: '10:00' }, 'named params by name, the others by position')
  t.equal(calls[0]!.query.OutId, '0-bulk-1')
  t.same(outcomes.map((o) => (o.kind === 'accepted' ? o.messageId : '')).filter((v, i, a) => a.indexOf(v) === i), fake.accepted.map((a) => a.bizId),
    'each number\'s message id is its call\'s BizId')

  // three jobs of a bulk notification by purpose: three calls with the purpose's template, a refusal only for its call
  fake.behaviour.set('+8613600000404', { code: 'isv.MOBILE_NUMBER_ILLEGAL', message: '非法手机号' })
  const jobs = [['+8613600000001', '+8613600000002'], ['+8613600000404'], ['+8613600000003']] as E164[][]
  const results = []
  for (const [i, job] of jobs.entries()) results.push(await provider.sendBulk({ requestId: `0-bulk-${i + 2}`, mobiles: job, purpose: 'register', params: [] }, signal()))
  t.same(results.map((r) => r.map((o) => o.kind)), [['accepted', 'accepted'], ['permanent'], ['accepted']])
  const last = fake.requests.slice(-3)
  t.same(last.map((r) => r.query.TemplateCode), ['SMS_100001', 'SMS_100001', 'SMS_100001'])
  t.equal(last[0]!.query.TemplateParam, undefined, 'no params, no TemplateParam')
  t.same(fake.refused, [])
})

t.test('a bulk job with no template for it fails for good without a call', async (t) => {
  const { fake } = await start(t)
  const provider = createAliyunProvider(providerConfig({ ALIYUN_SMS_ENDPOINT: fake.endpoint, ALIYUN_SMS_TEMPLATES: 'register=SMS_1' }))
  const outcomes = await provider.sendBulk({ requestId: 'b', mobiles: ['+8613600000001' as E164], purpose: 'login', params: [] }, signal())
  t.match(outcomes, [{ kind: 'permanent', error: /no Aliyun template/ }])
  t.match(await provider.send(code('+8613600000001', 'login'), signal()), { kind: 'permanent', error: /ALIYUN_SMS_TEMPLATES/ })
  t.equal(fake.requests.length, 0)
})

t.test('templateParam: named, positional, none', async (t) => {
  t.equal(templateParam([]), undefined)
  t.equal(templateParam(['a=1', 'b=x=y']), '{"a":"1","b":"x=y"}')
  t.equal(templateParam(['周五', '10:00']), '{"p1":"周五","p2":"10:00"}')
})

t.test('settings refused at startup with one line naming them', async (t) => {
  const base = { SMS_PROVIDER: 'aliyun' }
  const err = (env: Record<string, string>) => {
    try { createAliyunProvider(loadConfig(configSchema, env)); return undefined } catch (e) { return e as Error }
  }
  const missing = err(base)
  t.ok(missing instanceof ConfigError)
  t.equal(missing!.message, 'invalid configuration: SMS_PROVIDER aliyun needs ALIYUN_ACCESS_KEY_ID, ALIYUN_ACCESS_KEY_SECRET, ALIYUN_SMS_SIGN_NAME, ALIYUN_SMS_TEMPLATES (no template for register, login, reset_password)')
  const badTemplates = err({ ...base, ALIYUN_SMS_TEMPLATES: 'register' })
  t.match(badTemplates!.message, /^invalid configuration: ALIYUN_SMS_TEMPLATES expected string to match .* \(got "register"\)$/)
  const badEndpoint = err({ ...base, ALIYUN_SMS_ENDPOINT: 'ftp://x/y' })
  t.match(badEndpoint!.message, /^invalid configuration: ALIYUN_SMS_ENDPOINT expected string to match/)
  t.throws(() => loadConfig(configSchema, { SMS_PROVIDER: 'aliyun,sendgrid' }), /SMS_PROVIDER expected string to match/)
  t.same(loadConfig(configSchema, { SMS_PROVIDER: 'tencent,aliyun,ronglian' }).SMS_PROVIDER, ['tencent', 'aliyun', 'ronglian'])
})

t.test('endpoint forms', async (t) => {
  t.same(parseAliyunEndpoint('dysmsapi.aliyuncs.com'), { protocol: 'https', endpoint: 'dysmsapi.aliyuncs.com' })
  t.same(parseAliyunEndpoint('https://dysmsapi.ap-southeast-1.aliyuncs.com/'), { protocol: 'https', endpoint: 'dysmsapi.ap-southeast-1.aliyuncs.com' })
  t.same(parseAliyunEndpoint('http://127.0.0.1:9000'), { protocol: 'http', endpoint: '127.0.0.1:9000' })
  t.throws(() => parseAliyunEndpoint('http://a/b'), ConfigError)
})

t.test('the Aliyun SDK is pinned exactly, and dysmsapi uses the very openapi-core we pin', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> }
  const require = createRequire(import.meta.url)
  for (const name of ['@alicloud/dysmsapi20170525', '@alicloud/openapi-core', '@darabonba/typescript']) {
    t.match(pkg.dependencies[name], /^\d+\.\d+\.\d+$/, `${name} pinned exactly`)
  }
  const sms = require.resolve('@alicloud/dysmsapi20170525/package.json')
  t.equal((require(sms) as { version: string }).version, pkg.dependencies['@alicloud/dysmsapi20170525'])
  const fromSms = createRequire(sms)
  t.equal(fromSms.resolve('@alicloud/openapi-core'), require.resolve('@alicloud/openapi-core'), 'one copy of openapi-core')
})
