import { FAKE_CAPTCHA, startFakeSiteverify, startFakeTencentCaptcha, type RedisServer } from '@sms-verify/testing'

interface Teardown { teardown(fn: () => unknown): void }

export type CaptchaKind = 'turnstile' | 'hcaptcha' | 'tencent'

/** One local captcha provider, as the tests drive it whatever its kind. */
export interface CaptchaUnderTest {
  readonly kind: CaptchaKind
  /** the app's environment for this provider */
  readonly env: Record<string, string>
  /** the body fields a page sends after a person at `ip` solved the widget */
  solve(ip: string): { captchaToken: string, captchaRandstr?: string }
  /** the client address the provider was given on each check */
  remoteIps(): Array<string | null>
  checks(): number
  setStall(on: boolean): void
  stop(): Promise<void>
}

export async function startCaptcha(t: Teardown, kind: CaptchaKind): Promise<CaptchaUnderTest> {
  if (kind === 'tencent') {
    const fake = await startFakeTencentCaptcha()
    t.teardown(() => fake.stop())
    const c = FAKE_CAPTCHA.tencent
    return {
      kind,
      env: { CAPTCHA_PROVIDER: kind, CAPTCHA_VERIFY_URL: fake.url, TENCENT_SECRET_ID: c.secretId, TENCENT_SECRET_KEY: c.secretKey, TENCENT_CAPTCHA_APP_ID: String(c.appId), TENCENT_CAPTCHA_APP_SECRET_KEY: c.appSecretKey },
      solve: (ip) => { const { ticket, randstr } = fake.issue(ip); return { captchaToken: ticket, captchaRandstr: randstr } },
      remoteIps: () => fake.checks.map((c) => String(c.body.UserIp)),
      checks: () => fake.checks.length + fake.refused.length,
      setStall: (on) => { fake.stall = on },
      stop: () => fake.stop(),
    }
  }
  const fake = await startFakeSiteverify(kind)
  t.teardown(() => fake.stop())
  return {
    kind,
    env: { CAPTCHA_PROVIDER: kind, CAPTCHA_SECRET: FAKE_CAPTCHA.secret, CAPTCHA_VERIFY_URL: fake.url },
    solve: (ip) => ({ captchaToken: fake.issue(ip) }),
    remoteIps: () => fake.checks.map((c) => c.remoteip),
    checks: () => fake.checks.length,
    setStall: (on) => { fake.stall = on },
    stop: () => fake.stop(),
  }
}

/** Every key with its serialized value: equal snapshots mean a request touched nothing in Redis. */
export async function redisSnapshot(server: RedisServer): Promise<Record<string, string>> {
  const client = server.client()
  const keys = (await client.keys('*')).sort()
  const dumps = await Promise.all(keys.map((k) => client.dumpBuffer(k)))
  return Object.fromEntries(keys.map((k, i) => [k, dumps[i]?.toString('base64') ?? '']))
}
