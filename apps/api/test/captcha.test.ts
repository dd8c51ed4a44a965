import t from 'tap'
import fc from 'fast-check'
import type { TestEnv } from '@sms-verify/testing'
import { freshMobile, makeApp, sendCode, startTestRedis, streamEntries } from './helpers/app.js'
import { redisSnapshot, startCaptcha, type CaptchaKind } from './helpers/captcha.js'

const CLIENT = '203.0.113.7'
const OTHER_CLIENT = '198.51.100.20'
const TEST_NUMBER = '+8613800000000'

const metric = (text: string, provider: string, outcome: string) =>
  Number(new RegExp(`^sms_captcha_total\\{provider="${provider}",outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0)

for (const kind of ['turnstile', 'hcaptcha', 'tencent'] as const satisfies readonly CaptchaKind[]) {
  t.test(`${kind}: a send needs a solved captcha, checked with the client address`, async (t) => {
    const server = await startTestRedis(t)
    const captcha = await startCaptcha(t, kind)
    const { app } = await makeApp(t, server, { ...captcha.env, TEST_NUMBERS: `${TEST_NUMBER}=123456` })
    const mobile = freshMobile()

    const missing = await sendCode(app, { mobile, purpose: 'register' }, {}, CLIENT)
    t.equal(missing.statusCode, 400)
    t.match(missing.json(), { error: 'captcha_required', message: /captchaToken/ })
    if (kind === 'tencent') {
      const { captchaToken } = captcha.solve(CLIENT)
      const noRandstr = await sendCode(app, { mobile, purpose: 'register', captchaToken }, {}, CLIENT)
      t.match(noRandstr.json(), { error: 'captcha_required', message: /captchaRandstr/ })
    }
    t.equal(captcha.checks(), 0, 'a missing answer is not sent to the provider')

    const answer = captcha.solve(CLIENT)
    const ok = await sendCode(app, { mobile, purpose: 'register', ...answer }, {}, CLIENT)
    t.equal(ok.statusCode, 202)
    t.same(captcha.remoteIps(), [CLIENT], 'the client IP went to the provider with the token')
    t.equal((await streamEntries(server)).length, 1)

    const reused = await sendCode(app, { mobile: freshMobile(), purpose: 'register', ...answer }, {}, CLIENT)
    t.equal(reused.statusCode, 403, 'a token is good for one send')
    t.equal(reused.json().error, 'captcha_failed')

    const elsewhere = await sendCode(app, { mobile: freshMobile(), purpose: 'register', ...captcha.solve(OTHER_CLIENT) }, {}, CLIENT)
    t.equal(elsewhere.statusCode, 403, 'a token solved from another address is refused')

    const testNumber = await sendCode(app, { mobile: TEST_NUMBER, purpose: 'register' }, {}, CLIENT)
    t.equal(testNumber.statusCode, 202, 'TEST_NUMBERS skip the captcha')

    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
    t.equal(metric(metrics, kind, 'ok'), 1)
    t.equal(metric(metrics, kind, 'failed'), 2)
  })

  t.test(`${kind}: a refused captcha touches no limit and queues nothing`, async (t) => {
    const server = await startTestRedis(t)
    const captcha = await startCaptcha(t, kind)
    const { app } = await makeApp(t, server, { ...captcha.env, SEND_LIMIT_PER_IP_PER_HOUR: '2', SMS_DAILY_LIMIT_PER_MOBILE: '2' })
    const mobile = freshMobile()
    t.equal((await sendCode(app, { mobile, purpose: 'register', ...captcha.solve(CLIENT) }, {}, CLIENT)).statusCode, 202)
    const before = await redisSnapshot(server)

    const refused = [
      await sendCode(app, { mobile, purpose: 'register' }, {}, CLIENT),
      await sendCode(app, { mobile, purpose: 'register', captchaToken: 'forged', captchaRandstr: '@abc' }, {}, CLIENT),
      await sendCode(app, { mobile: freshMobile(), purpose: 'login', ...captcha.solve(OTHER_CLIENT) }, {}, CLIENT),
      await app.inject({ method: 'GET', url: `/sms_codes/${freshMobile()}/?captchaToken=forged&captchaRandstr=x`, remoteAddress: CLIENT }),
    ]
    t.same(refused.map((r) => r.json().error), ['captcha_required', 'captcha_failed', 'captcha_failed', 'captcha_failed'],
      'the captcha is refused before the cooldown of the number is looked at')
    t.same(await redisSnapshot(server), before, 'no counter, cooldown, code, status or job was written')

    // The per-IP window still has one place: a good answer takes it.
    t.equal((await sendCode(app, { mobile: freshMobile(), purpose: 'register', ...captcha.solve(CLIENT) }, {}, CLIENT)).statusCode, 202)
    t.equal((await streamEntries(server)).length, 2)
  })

  t.test(`${kind}: a provider that does not answer within 3 s fails closed`, async (t) => {
    const server = await startTestRedis(t)
    const captcha = await startCaptcha(t, kind)
    const { app } = await makeApp(t, server, captcha.env)
    captcha.setStall(true)
    const stalled = await sendCode(app, { mobile: freshMobile(), purpose: 'register', ...captcha.solve(CLIENT) }, {}, CLIENT)
    t.equal(stalled.statusCode, 503)
    t.match(stalled.json(), { error: 'captcha_unavailable', message: String })
    await captcha.stop()
    const down = await sendCode(app, { mobile: freshMobile(), purpose: 'register', ...captcha.solve(CLIENT) }, {}, CLIENT)
    t.equal(down.statusCode, 503, 'a provider that cannot be reached: 503 too')
    t.equal(down.json().error, 'captcha_unavailable')
    t.same(await redisSnapshot(server), {}, 'nothing sent, nothing counted')
    t.equal(metric((await app.inject({ method: 'GET', url: '/metrics' })).body, kind, 'unavailable'), 2)
  })
}

t.test('legacy GET /sms_codes/:mobile/ takes the answer in its query', async (t) => {
  const server = await startTestRedis(t)
  const captcha = await startCaptcha(t, 'tencent')
  const { app } = await makeApp(t, server, captcha.env)
  const missing = await app.inject({ method: 'GET', url: `/sms_codes/${freshMobile()}/`, remoteAddress: CLIENT })
  t.equal(missing.statusCode, 400)
  t.match(missing.json(), { error: 'captcha_required', message: String })
  const { captchaToken, captchaRandstr } = captcha.solve(CLIENT)
  const query = new URLSearchParams({ captchaToken, captchaRandstr: captchaRandstr! })
  const ok = await app.inject({ method: 'GET', url: `/sms_codes/${freshMobile()}/?${query}`, remoteAddress: CLIENT })
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { message: 'ok' })
  t.same(captcha.remoteIps(), [CLIENT])
})

t.test('a wrong secret of ours is 503 captcha_unavailable, not the person\'s 403', async (t) => {
  const server = await startTestRedis(t)
  for (const kind of ['turnstile', 'tencent'] as const) {
    const captcha = await startCaptcha(t, kind)
    const wrong: TestEnv = kind === 'tencent' ? { TENCENT_SECRET_KEY: 'notTheSecretKey00000000000000' } : { CAPTCHA_SECRET: 'not-the-secret' }
    const { app } = await makeApp(t, server, { ...captcha.env, ...wrong })
    const res = await sendCode(app, { mobile: freshMobile(), purpose: 'register', ...captcha.solve(CLIENT) }, {}, CLIENT)
    t.equal(res.statusCode, 503, kind)
    t.equal(res.json().error, 'captcha_unavailable')
  }
  const tencent = await startCaptcha(t, 'tencent')
  const { app } = await makeApp(t, server, { ...tencent.env, TENCENT_CAPTCHA_APP_SECRET_KEY: 'wrongAppSecretKey000000**' })
  const res = await sendCode(app, { mobile: freshMobile(), purpose: 'register', ...tencent.solve(CLIENT) }, {}, CLIENT)
  t.equal(res.json().error, 'captcha_unavailable', 'Tencent CaptchaCode 100 (AppSecretKey mismatch) is ours to fix')
  t.same(await redisSnapshot(server), {})
})

t.test('property: jobs queued are exactly the sends with a fresh, matching captcha answer', async (t) => {
  const server = await startTestRedis(t)
  const captcha = await startCaptcha(t, 'turnstile')
  const { app } = await makeApp(t, server, captcha.env)
  type Attempt = 'missing' | 'forged' | 'good' | 'reuse' | 'otherIp'
  let queued = 0
  const run = await fc.check(fc.asyncProperty(fc.array(fc.constantFrom<Attempt>('missing', 'forged', 'good', 'reuse', 'otherIp'), { minLength: 1, maxLength: 6 }), async (attempts) => {
    const used: string[] = []
    let accepted = 0
    for (const attempt of attempts) {
      const token = attempt === 'missing' ? undefined
        : attempt === 'forged' ? 'forged-token'
          : attempt === 'reuse' && used.length > 0 ? used[0]!
            : captcha.solve(attempt === 'otherIp' ? OTHER_CLIENT : CLIENT).captchaToken
      const fresh = (attempt === 'good' || (attempt === 'reuse' && used.length === 0))
      if (token !== undefined) used.push(token)
      const res = await sendCode(app, { mobile: freshMobile(), purpose: 'register', ...(token === undefined ? {} : { captchaToken: token }) }, {}, CLIENT)
      if (res.statusCode !== (fresh ? 202 : token === undefined ? 400 : 403)) return false
      if (fresh) accepted++
    }
    queued += accepted
    return (await streamEntries(server)).length === queued
  }), { numRuns: 25, verbose: 1 })
  t.notOk(run.failed, fc.defaultReportMessage(run) ?? `held for ${run.numRuns} runs (seed ${run.seed})`)
  t.equal(run.numRuns, 25, 'every generated run was checked')
})

t.test('OpenAPI tells the truth about captcha fields, their refusals, the token and the JWKS', async (t) => {
  const server = await startTestRedis(t)
  const { app } = await makeApp(t, server)
  type Op = { requestBody?: { content: Record<string, { schema: { properties: Record<string, { description?: string }> } }> }, parameters?: Array<{ name: string, in: string }>, responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }> }
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, Op>> }
  const send = doc.paths['/v1/sms-codes']!.post!
  const fields = send.requestBody!.content['application/json']!.schema.properties
  t.match(fields.captchaToken?.description, /required/, 'captchaToken documented as required when a provider is set')
  t.ok(fields.captchaRandstr)
  t.ok(send.responses['403'], '403 captcha_failed is listed')
  t.ok(send.responses['503'])
  const legacy = doc.paths['/sms_codes/{mobile}']!.get!
  t.same(legacy.parameters!.filter((p) => p.in === 'query').map((p) => p.name).sort(), ['captchaRandstr', 'captchaToken'])
  t.ok(legacy.responses['403'])
  t.ok(doc.paths['/v1/sms-codes/verify']!.post!.responses['200']!.content!['application/json']!.schema.properties!.token, 'verify documents the token')
  t.ok(doc.paths['/.well-known/jwks.json']!.get!.responses['404'], 'the JWKS route and its 404 are documented')
})
