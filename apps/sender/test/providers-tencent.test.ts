import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import t, { type Test } from 'tap'
import { startFakeTencent } from '@sms-verify/testing'
import { ConfigError, type E164 } from '@sms-verify/shared'
import { checkSigningEndpoint, createTencentProvider, endpointSignedAsSms, parseTencentEndpoint } from '../src/providers/tencent.js'
import { tencentClass } from '../src/providers/tencent-errors.js'
import { nextShanghaiMidnight } from '../src/providers/carrier-window.js'
import { providerConfig, signal } from './helpers/provider-fakes.js'

const start = async (t: Test, env: Record<string, string> = {}) => {
  const fake = await startFakeTencent()
  t.teardown(() => fake.stop())
  return { fake, provider: createTencentProvider(providerConfig({ TENCENT_SMS_ENDPOINT: fake.endpoint, ...env })) }
}

t.test('SendSms carries the template of the purpose, [code, minutes] and the E.164 number, signed for sms', async (t) => {
  const { fake, provider } = await start(t)
  for (const [purpose, template] of [['register', '707336'], ['login', '727055'], ['reset_password', '737001']] as const) {
    const outcome = await provider.send({ requestId: 'r', mobile: '+8613812345678' as E164, purpose, code: '123456', minutesValid: 5 }, signal())
    t.equal(outcome.kind, 'accepted')
    const req = fake.requests.at(-1)!
    t.equal(req.action, 'SendSms')
    t.equal(req.headers['x-tc-version'], '2021-01-11')
    t.equal(req.region, 'ap-guangzhou')
    t.match(String(req.headers.authorization), /Credential=[^/]+\/\d{4}-\d{2}-\d{2}\/sms\/tc3_request, SignedHeaders=content-type;host,/)
    t.same(req.body, { PhoneNumberSet: ['+8613812345678'], SmsSdkAppId: '1400000000', SignName: '腾讯云', TemplateId: template, TemplateParamSet: ['123456', '5'] })
  }
  t.same(fake.refused, [])
})

t.test('the SDK signs the host without its port: Host carries the port, the fake recomputes the signature over the bare host', async (t) => {
  const { fake, provider } = await start(t)
  const port = new URL(fake.endpoint).port
  const outcome = await provider.send({ requestId: 'r', mobile: '+8613812345678' as E164, purpose: 'login', code: '123456', minutesValid: 5 }, signal())
  t.equal(outcome.kind, 'accepted')
  t.equal(fake.requests[0]!.headers.host, `127.0.0.1:${port}`)
  t.same(fake.refused, [], 'signature for host 127.0.0.1 and service sms accepted')
  // localhost:port, whose first label is not sms either
  const viaName = createTencentProvider(providerConfig({ TENCENT_SMS_ENDPOINT: `http://localhost:${port}` }))
  t.equal((await viaName.send({ requestId: 'r', mobile: '+8613812345678' as E164, purpose: 'login', code: '123456', minutesValid: 5 }, signal())).kind, 'accepted')
  t.equal(fake.requests[1]!.headers.host, `localhost:${port}`)
  t.same(fake.refused, [])
})

t.test('the signing endpoint: the real host for the URL, sms for the scope; plain string for sms.* hosts', async (t) => {
  t.equal(typeof endpointSignedAsSms('sms.tencentcloudapi.com'), 'string')
  t.equal(typeof endpointSignedAsSms('sms.ap-guangzhou.tencentcloudapi.com'), 'string')
  const e = endpointSignedAsSms('127.0.0.1:9000')
  t.equal(`http://${e}/`, 'http://127.0.0.1:9000/')
  t.equal(String(e), '127.0.0.1:9000')
  t.equal(e.split('.')[0], 'sms')
  t.same(Object.keys(e).filter((k) => k === 'split'), [], 'split is not enumerable')
  const client = { endpoint: e, path: '/', profile: { httpProfile: { protocol: 'http://' } } }
  t.doesNotThrow(() => checkSigningEndpoint(client, '127.0.0.1:9000'))
  t.doesNotThrow(() => checkSigningEndpoint({ ...client, endpoint: endpointSignedAsSms('127.0.0.1:80') }, '127.0.0.1:80'), 'a default port is the same host')
  t.throws(() => checkSigningEndpoint({ ...client, endpoint: '127.0.0.1:9000' }, '127.0.0.1:9000'), /signed for service 127/)
  t.throws(() => checkSigningEndpoint({ ...client, endpoint: endpointSignedAsSms('10.0.0.1:9000') }, '127.0.0.1:9000'), /requests would go to 10.0.0.1:9000/)
})

t.test('the Tencent SDK is pinned: exact versions, and the SMS client uses the very common package pinned', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> }
  const pinSms = pkg.dependencies['tencentcloud-sdk-nodejs-sms']!
  const pinCommon = pkg.dependencies['tencentcloud-sdk-nodejs-common']!
  t.match(pinSms, /^\d+\.\d+\.\d+$/, 'sms pinned exactly')
  t.match(pinCommon, /^\d+\.\d+\.\d+$/, 'common pinned exactly')
  const require = createRequire(import.meta.url)
  const smsPkg = require.resolve('tencentcloud-sdk-nodejs-sms/package.json')
  t.equal((require(smsPkg) as { version: string }).version, pinSms)
  // the common package as the SMS client resolves it, not as we do
  const fromSms = createRequire(smsPkg)
  t.equal((fromSms('tencentcloud-sdk-nodejs-common/package.json') as { version: string }).version, pinCommon)
  t.equal(dirname(fromSms.resolve('tencentcloud-sdk-nodejs-common/package.json')), dirname(require.resolve('tencentcloud-sdk-nodejs-common/package.json')), 'one copy')
})

t.test('a wrong secret key fails the signature check: permanent, nothing sent', async (t) => {
  const { fake, provider } = await start(t, { TENCENT_SECRET_KEY: 'not-the-right-key-0000000000' })
  const outcome = await provider.send({ requestId: 'r', mobile: '+8613812345678' as E164, purpose: 'login', code: '123456', minutesValid: 5 }, signal())
  t.match(outcome, { kind: 'permanent', error: /AuthFailure.SignatureFailure/ })
  t.same(fake.refused, ['AuthFailure.SignatureFailure'])
  t.equal(fake.accepted.length, 0)
})

t.test('a wrong secret id is refused too', async (t) => {
  const { fake, provider } = await start(t, { TENCENT_SECRET_ID: 'AKIDsomeoneelse000000000' })
  const outcome = await provider.send({ requestId: 'r', mobile: '+8613812345678' as E164, purpose: 'login', code: '123456', minutesValid: 5 }, signal())
  t.match(outcome, { kind: 'permanent', error: /AuthFailure.SecretIdNotFound/ })
  t.same(fake.refused, ['AuthFailure.SecretIdNotFound'])
})

t.test('every class of per-number code and API-level error', async (t) => {
  const { fake, provider } = await start(t)
  const cases: Array<[string, 'code' | 'apiError', string]> = [
    ['InternalError.Timeout', 'code', 'transient'],
    ['InternalError.OtherError', 'code', 'transient'],
    ['RequestLimitExceeded', 'apiError', 'transient'],
    ['LimitExceeded', 'apiError', 'transient'],
    ['InternalError', 'apiError', 'transient'],
    ['FailedOperation.InsufficientBalanceInSmsPackage', 'code', 'transient'],
    ['InvalidParameterValue.IncorrectPhoneNumber', 'code', 'permanent'],
    ['FailedOperation.TemplateIncorrectOrUnapproved', 'code', 'permanent'],
    ['FailedOperation.SignatureIncorrectOrUnapproved', 'code', 'permanent'],
    ['FailedOperation.PhoneNumberInBlacklist', 'code', 'permanent'],
    ['UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber', 'apiError', 'permanent'],
    ['AuthFailure.UnauthorizedOperation', 'apiError', 'permanent'],
    ['LimitExceeded.PhoneNumberThirtySecondLimit', 'code', 'carrier_limit'],
    // unlisted members of permanent families, and Tencent's own spellings
    ['InvalidParameterValue.SomethingNew', 'code', 'permanent'],
    ['InvalidParameterValue.SomethingNew', 'apiError', 'permanent'],
    ['UnknownParameter', 'apiError', 'permanent'],
    ['UnknownParameter.SomethingNew', 'apiError', 'permanent'],
    ['UnauthorizedOperation.SerivceSuspendDueToArrears', 'apiError', 'transient'],
    ['LimitExceeded.AppCountryOrRegionDailyLimit', 'code', 'transient'],
    ['UnsupportedOperation.GlobalTemplateToChineseMainlandPhone', 'apiError', 'permanent'],
  ]
  let n = 0
  for (const [code, how, kind] of cases) {
    const mobile = `+86138000001${String(n++).padStart(2, '0')}`
    fake.behaviour.set(mobile, how === 'code' ? { code } : { apiError: code })
    const outcome = await provider.send({ requestId: 'r', mobile: mobile as E164, purpose: 'login', code: '123456', minutesValid: 5 }, signal())
    t.equal(outcome.kind, kind, `${code} (${how}) is ${kind}`)
    t.match(outcome, { error: new RegExp(code.replace(/\./g, '\\.')) })
  }
})

t.test('carrier limits block until the end of the carrier window', async (t) => {
  const { fake, provider } = await start(t)
  const windows: Array<[string, (now: number) => number]> = [
    ['LimitExceeded.PhoneNumberThirtySecondLimit', (now) => now + 30_000],
    ['LimitExceeded.PhoneNumberOneHourLimit', (now) => now + 3_600_000],
    ['LimitExceeded.PhoneNumberDailyLimit', nextShanghaiMidnight],
    ['LimitExceeded.PhoneNumberSameContentDailyLimit', nextShanghaiMidnight],
  ]
  for (const [i, [code, end]] of windows.entries()) {
    const mobile = `+861390000000${i}`
    fake.behaviour.set(mobile, { code })
    const before = Date.now()
    const outcome = await provider.send({ requestId: 'r', mobile: mobile as E164, purpose: 'login', code: '123456', minutesValid: 5 }, signal())
    t.equal(outcome.kind, 'carrier_limit', code)
    const until = outcome.kind === 'carrier_limit' ? outcome.blockedUntil : 0
    t.ok(until >= end(before) && until <= end(Date.now()), `${code} ends at its window`)
  }
})

t.test('next midnight in Asia/Shanghai', async (t) => {
  // 2024-03-10 15:59:59 UTC is 23:59:59 in Shanghai: midnight is one second away.
  t.equal(nextShanghaiMidnight(Date.UTC(2024, 2, 10, 15, 59, 59)), Date.UTC(2024, 2, 10, 16, 0, 0))
  // 16:00:00 UTC is midnight itself: the window runs to the next one.
  t.equal(nextShanghaiMidnight(Date.UTC(2024, 2, 10, 16, 0, 0)), Date.UTC(2024, 2, 11, 16, 0, 0))
  t.equal(nextShanghaiMidnight(Date.UTC(2024, 2, 10, 1, 0, 0)), Date.UTC(2024, 2, 10, 16, 0, 0))
})

t.test('unknown codes retry; families decide unlisted members', async (t) => {
  t.equal(tencentClass('InternalError.SomethingNew'), 'transient')
  t.equal(tencentClass('AuthFailure.SomethingNew'), 'permanent')
  t.equal(tencentClass('Brand.New'), 'transient')
  t.equal(tencentClass('InvalidParameterValue.SomethingNew'), 'permanent', 'the InvalidParameterValue family is permanent')
  t.equal(tencentClass('InvalidParameter.SomethingNew'), 'permanent')
  t.equal(tencentClass('UnknownParameter'), 'permanent')
  t.equal(tencentClass('UnknownParameter.SomethingNew'), 'permanent')
  t.equal(tencentClass('InvalidParameterValueX'), 'transient', 'a prefix matches whole segments only')
  t.same(tencentClass('LimitExceeded.PhoneNumberSomethingNew'), { seconds: 60 }, 'the longest prefix wins over LimitExceeded')
  t.equal(tencentClass('LimitExceeded.SomethingNew'), 'transient')
  t.equal(tencentClass('RequestLimitExceeded.UinLimitExceeded'), 'transient')
})

t.test('the documented SendSms codes all have a class on purpose (none falls to the unknown default)', async (t) => {
  // The list SendSms may return (tencentcloud-sdk-go sms/v20210111 client.go), spelt as Tencent spells them.
  const documented: Record<string, string> = {
    'FailedOperation.ContainSensitiveWord': 'permanent', 'FailedOperation.FailResolvePacket': 'permanent',
    'FailedOperation.InsufficientBalanceInSmsPackage': 'transient', 'FailedOperation.JsonParseFail': 'permanent',
    'FailedOperation.MarketingSendTimeConstraint': 'permanent', 'FailedOperation.PhoneNumberInBlacklist': 'permanent',
    'FailedOperation.SignatureIncorrectOrUnapproved': 'permanent', 'FailedOperation.TemplateIncorrectOrUnapproved': 'permanent',
    'FailedOperation.TemplateParamSetNotMatchApprovedTemplate': 'permanent', 'FailedOperation.TemplateUnapprovedOrNotExist': 'permanent',
    'InternalError.OtherError': 'transient', 'InternalError.RequestTimeException': 'transient',
    'InternalError.RestApiInterfaceNotExist': 'permanent', 'InternalError.SendAndRecvFail': 'transient',
    'InternalError.SigFieldMissing': 'permanent', 'InternalError.SigVerificationFail': 'permanent',
    'InternalError.Timeout': 'transient', 'InternalError.UnknownError': 'transient',
    'InvalidParameterValue.ContentLengthLimit': 'permanent', 'InvalidParameterValue.IncorrectPhoneNumber': 'permanent',
    'InvalidParameterValue.ProhibitedUseUrlInTemplateParameter': 'permanent', 'InvalidParameterValue.SdkAppIdNotExist': 'permanent',
    'InvalidParameterValue.TemplateParameterFormatError': 'permanent', 'InvalidParameterValue.TemplateParameterLengthLimit': 'permanent',
    'LimitExceeded.AppCountryOrRegionDailyLimit': 'transient', 'LimitExceeded.AppCountryOrRegionInBlacklist': 'permanent',
    'LimitExceeded.AppDailyLimit': 'transient', 'LimitExceeded.AppGlobalDailyLimit': 'transient',
    'LimitExceeded.AppMainlandChinaDailyLimit': 'transient', 'LimitExceeded.DailyLimit': 'transient',
    'LimitExceeded.PhoneNumberCountLimit': 'permanent', 'MissingParameter.EmptyPhoneNumberSet': 'permanent',
    'UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny': 'permanent', 'UnauthorizedOperation.RequestIpNotInWhitelist': 'permanent',
    'UnauthorizedOperation.RequestPermissionDeny': 'permanent', 'UnauthorizedOperation.SdkAppIdIsDisabled': 'permanent',
    'UnauthorizedOperation.SerivceSuspendDueToArrears': 'transient', 'UnauthorizedOperation.SmsSdkAppIdVerifyFail': 'permanent',
    'UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone': 'permanent',
    'UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber': 'permanent',
    'UnsupportedOperation.GlobalTemplateToChineseMainlandPhone': 'permanent', 'UnsupportedOperation.UnsuportedRegion': 'permanent',
  }
  for (const [code, cls] of Object.entries(documented)) t.equal(tencentClass(code), cls, code)
  t.same(tencentClass('LimitExceeded.DeliveryFrequencyLimit'), { seconds: 60 })
  t.same(tencentClass('LimitExceeded.PhoneNumberThirtySecondLimit'), { seconds: 30 })
  t.same(tencentClass('LimitExceeded.PhoneNumberOneHourLimit'), { seconds: 3600 })
  t.equal(tencentClass('LimitExceeded.PhoneNumberDailyLimit'), 'day')
  t.equal(tencentClass('LimitExceeded.PhoneNumberSameContentDailyLimit'), 'day')
})

t.test('450 numbers in three jobs are three SendSms calls of 200, 200 and 50, one outcome per number in order', async (t) => {
  const { fake, provider } = await start(t)
  const mobiles = Array.from({ length: 450 }, (_, i) => `+8613${String(700000000 + i)}` as E164)
  fake.behaviour.set(mobiles[5]!, { code: 'FailedOperation.PhoneNumberInBlacklist' })
  fake.behaviour.set(mobiles[420]!, { code: 'LimitExceeded.PhoneNumberDailyLimit' })
  const results = []
  for (let i = 0; i < mobiles.length; i += 200) {
    results.push(...await provider.sendBulk({ requestId: 'b', mobiles: mobiles.slice(i, i + 200), templateId: '900001', params: ['a', 'b'] }, signal()))
  }
  t.same(fake.requests.map((r) => (r.body.PhoneNumberSet as string[]).length), [200, 200, 50])
  t.same(fake.requests.map((r) => r.body.TemplateId), ['900001', '900001', '900001'])
  t.equal(results.length, 450)
  t.equal(results.filter((r) => r.kind === 'accepted').length, 448)
  t.equal(results[5]!.kind, 'permanent')
  t.equal(results[420]!.kind, 'carrier_limit')
  const serials = new Map(fake.accepted.map((a) => [a.mobile, a.serialNo]))
  t.ok(results.every((r, i) => r.kind !== 'accepted' || r.messageId === serials.get(mobiles[i]!)), 'each accepted number has its own SerialNo')
})

t.test('the fake refuses a batch that mixes mainland and international numbers, as Tencent does', async (t) => {
  const { fake, provider } = await start(t)
  const outcomes = await provider.sendBulk({ requestId: 'b', mobiles: ['+8613812345678' as E164, '+85261234567' as E164], templateId: '9', params: [] }, signal())
  t.same(outcomes.map((o) => o.kind), ['permanent', 'permanent'])
  t.match(outcomes[0], { error: /ContainDomesticAndInternationalPhoneNumber/ })
  t.equal(fake.accepted.length, 0)
})

t.test('a bulk job by purpose uses that purpose\'s template', async (t) => {
  const { fake, provider } = await start(t)
  const [outcome] = await provider.sendBulk({ requestId: 'b', mobiles: ['+8613812345678' as E164], purpose: 'register', params: ['1'] }, signal())
  t.equal(outcome!.kind, 'accepted')
  t.equal(fake.requests[0]!.body.TemplateId, '707336')
})

t.test('missing variables are refused at startup with one line naming them', async (t) => {
  const config = providerConfig({ TENCENT_SMS_TEMPLATES: 'register=1' })
  const bare = { ...config, TENCENT_SECRET_KEY: undefined, TENCENT_SMS_SIGN: undefined }
  let err: unknown
  try { createTencentProvider(bare) } catch (e) { err = e }
  t.ok(err instanceof ConfigError, 'a ConfigError')
  const msg = (err as Error).message
  t.notMatch(msg, /\n/)
  t.match(msg, /TENCENT_SECRET_KEY/)
  t.match(msg, /TENCENT_SMS_SIGN/)
  t.notMatch(msg, /TENCENT_SMS_TEMPLATES/, 'a template for one purpose is enough to start')
  t.notMatch(msg, /TENCENT_SECRET_ID/)
  try { createTencentProvider({ ...config, TENCENT_SMS_TEMPLATES: {} }) } catch (e) { err = e }
  t.match((err as Error).message, /TENCENT_SMS_TEMPLATES \(no template for register, login, reset_password\)/, 'none at all is refused')
})

t.test('a code for a purpose without a template fails for good, naming the variable; no call is made', async (t) => {
  const { fake, provider } = await start(t, { TENCENT_SMS_TEMPLATES: 'register=707336,login=727055' })
  const outcome = await provider.send({ requestId: '0-x', mobile: '+8613812345678' as E164, purpose: 'reset_password', code: '123456', minutesValid: 5 }, signal())
  t.same(outcome, { kind: 'permanent', error: 'no Tencent template for purpose reset_password (set it in TENCENT_SMS_TEMPLATES)' })
  t.equal(fake.requests.length, 0)
})

t.test('CODE_LENGTH above 6 is refused with Tencent', async (t) => {
  t.throws(() => createTencentProvider(providerConfig({ CODE_LENGTH: '7' })), { name: 'ConfigError', message: /CODE_LENGTH 7/ })
  t.doesNotThrow(() => createTencentProvider(providerConfig({ CODE_LENGTH: '6' })))
})

t.test('endpoint forms', async (t) => {
  t.same(parseTencentEndpoint('sms.tencentcloudapi.com'), { protocol: 'https://', host: 'sms.tencentcloudapi.com' })
  t.same(parseTencentEndpoint('http://127.0.0.1:9000'), { protocol: 'http://', host: '127.0.0.1:9000' })
  t.same(parseTencentEndpoint('https://sms.ap-guangzhou.tencentcloudapi.com/'), { protocol: 'https://', host: 'sms.ap-guangzhou.tencentcloudapi.com' })
})

t.test('PullSmsSendStatus turns into receipts', async (t) => {
  const { fake, provider } = await start(t)
  fake.receipts.push(
    { SerialNo: 's1', PhoneNumber: '+8613812345678', ReportStatus: 'SUCCESS', Description: '用户短信送达成功', UserReceiveTime: 1700000000 },
    { SerialNo: 's2', PhoneNumber: '+8613812345679', ReportStatus: 'FAIL', Description: 'MK:0001' })
  const receipts = await provider.pullReceipts!(signal())
  t.match(receipts, [
    { provider: 'tencent', messageId: 's1', mobile: '+8613812345678', delivered: true, at: 1700000000000 },
    { provider: 'tencent', messageId: 's2', mobile: '+8613812345679', delivered: false, reason: 'MK:0001' },
  ])
  t.notOk('reason' in receipts[0]!, 'a delivered receipt carries no reason')
  t.same(fake.requests[0]!.body, { Limit: 100, SmsSdkAppId: '1400000000' })
  t.same(await provider.pullReceipts!(signal()), [], 'each receipt is handed out once')
})
