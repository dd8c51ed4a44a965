import t, { type Test } from 'tap'
import { startFakeAliyun, startFakeRonglian, startFakeTencent, type FakeAliyun, type FakeRonglian, type FakeTencent } from '@sms-verify/testing'
import type { E164 } from '@sms-verify/shared'
import type { CodeMessage, Provider } from '../src/provider.js'
import { createTencentProvider } from '../src/providers/tencent.js'
import { createRonglianProvider } from '../src/providers/ronglian.js'
import { createAliyunProvider } from '../src/providers/aliyun.js'
import { providerConfig, signal } from './helpers/provider-fakes.js'

/** A stalled fake answers (accepted) after this long: the adapter must have given up well before. */
const STALL_MS = 10_000

const msg = (mobile: string): CodeMessage => ({ requestId: 'r1', mobile: mobile as E164, purpose: 'login', code: '482913', minutesValid: 5 })

interface Rig {
  provider: (timeoutMs?: number) => Provider
  /** program the fake: what `mobile` gets for each outcome class */
  program: (mobile: string, kind: 'transient' | 'permanent' | 'carrier_limit' | 'stall') => void
  calls: () => number
}

const rigs: Record<string, (t: Test) => Promise<Rig>> = {
  async tencent(t) {
    const fake: FakeTencent = await startFakeTencent()
    t.teardown(() => fake.stop())
    return {
      provider: (ms = 2000) => createTencentProvider(providerConfig({ TENCENT_SMS_ENDPOINT: fake.endpoint, PROVIDER_TIMEOUT_MS: String(ms) })),
      program: (m, kind) => fake.behaviour.set(m, {
        transient: { code: 'InternalError.Timeout' },
        permanent: { code: 'InvalidParameterValue.IncorrectPhoneNumber' },
        carrier_limit: { code: 'LimitExceeded.PhoneNumberOneHourLimit' },
        stall: { stall: true as const, ms: STALL_MS },
      }[kind]),
      calls: () => fake.requests.length,
    }
  },
  async ronglian(t) {
    const fake: FakeRonglian = await startFakeRonglian()
    t.teardown(() => fake.stop())
    return {
      provider: (ms = 2000) => createRonglianProvider(providerConfig({ RONGLIAN_BASE_URL: fake.baseUrl, PROVIDER_TIMEOUT_MS: String(ms) })),
      program: (m, kind) => fake.behaviour.set(m.replace(/^\+86/, ''), {
        transient: { httpStatus: 502 },
        permanent: { statusCode: '160042' },
        carrier_limit: { statusCode: '160038' },
        stall: { stall: true as const, ms: STALL_MS },
      }[kind]),
      calls: () => fake.requests.length,
    }
  },
  async aliyun(t) {
    await import('../src/providers/aliyun-sdk.js')  // loaded lazily by the provider; warm it outside the timed calls
    const fake: FakeAliyun = await startFakeAliyun()
    t.teardown(() => fake.stop())
    return {
      provider: (ms = 2000) => createAliyunProvider(providerConfig({ ALIYUN_SMS_ENDPOINT: fake.endpoint, PROVIDER_TIMEOUT_MS: String(ms) })),
      program: (m, kind) => fake.behaviour.set(m, {
        transient: { httpStatus: 503, code: 'ServiceUnavailable', message: 'The request has failed due to a temporary failure of the server.' },
        permanent: { code: 'isv.MOBILE_NUMBER_ILLEGAL', message: '非法手机号' },
        carrier_limit: { code: 'isv.BUSINESS_LIMIT_CONTROL', message: '触发小时级流控Permits:5' },
        stall: { stall: true as const, ms: STALL_MS },
      }[kind]),
      calls: () => fake.requests.length,
    }
  },
}

for (const [name, makeRig] of Object.entries(rigs)) {
  t.test(`${name} honours the provider contract`, async (t) => {
    const rig = await makeRig(t)
    const provider = rig.provider()
    t.equal(provider.name, name)

    const ok = await provider.send(msg('+8613800000001'), signal())
    t.equal(ok.kind, 'accepted')
    t.ok(ok.kind === 'accepted' && ok.messageId.length > 0, 'a message id to match receipts with')

    rig.program('+8613800000002', 'transient')
    t.equal((await provider.send(msg('+8613800000002'), signal())).kind, 'transient')

    rig.program('+8613800000003', 'permanent')
    t.equal((await provider.send(msg('+8613800000003'), signal())).kind, 'permanent')

    rig.program('+8613800000004', 'carrier_limit')
    const before = Date.now()
    const limited = await provider.send(msg('+8613800000004'), signal())
    t.equal(limited.kind, 'carrier_limit')
    t.ok(limited.kind === 'carrier_limit' && limited.blockedUntil > before, 'blocked until a future time')
    t.equal(rig.calls(), 4)
  })

  t.test(`${name}: a stalled provider is transient once the signal fires`, async (t) => {
    const rig = await makeRig(t)
    const provider = rig.provider(200)
    rig.program('+8613800000005', 'stall')
    const outcome = await provider.send(msg('+8613800000005'), AbortSignal.timeout(200))
    t.equal(outcome.kind, 'transient', `gave up before the fake's answer ${STALL_MS} ms later, which would have read accepted`)
    t.equal(rig.calls(), 1, 'one call, not retried by the adapter')
  })
}
