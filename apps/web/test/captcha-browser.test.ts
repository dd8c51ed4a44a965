import t from 'tap'
import { existsSync } from 'node:fs'
import { generateKeyPairSync } from 'node:crypto'
import {
  FAKE_CAPTCHA, freePort, runNode, startFakeSiteverify, startFakeTencentCaptcha, startRedis, startSenderProcess, type RunningProcess,
} from '@sms-verify/testing'
import { chromium, type Browser } from 'playwright-core'
import { serveStatic } from '../serve.mjs'

const CHROMIUM = '/usr/bin/chromium'
const TURNSTILE_SITE_KEY = '1x00000000000000000000AA'

/**
 * Stand-ins for the providers' widget scripts (no internet here): the same global APIs,
 * and a "person" who solves the challenge at once with an answer the local fake accepts.
 */
const STUBS = {
  turnstile: (answer: { token: string }) => ({
    url: 'https://challenges.cloudflare.com/**',
    body: `window.turnstile = {
      render(el, o) { el.dataset.renderedWith = o.sitekey; setTimeout(() => o.callback(${JSON.stringify(answer.token)}), 0); return 'w1' },
      reset() { window.captchaResets = (window.captchaResets || 0) + 1 },
    }; window.smsCaptchaLoaded();`,
  }),
  tencent: (answer: { token: string, randstr: string }) => ({
    url: 'https://turing.captcha.qcloud.com/**',
    body: `window.TencentCaptcha = class {
      constructor(appId, callback) { this.appId = appId; this.callback = callback }
      show() { document.getElementById('captcha').dataset.renderedWith = this.appId;
        setTimeout(() => this.callback({ ret: 0, appid: this.appId, ticket: ${JSON.stringify(answer.token)}, randstr: ${JSON.stringify(answer.randstr)} }), 0) }
    };`,
  }),
}

const launch = () => chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
})

if (!existsSync(CHROMIUM)) {
  t.skip(`${CHROMIUM} is absent: install Debian's chromium (apt-get install chromium) to run the browser test`, () => {})
} else {
  for (const kind of ['turnstile', 'tencent'] as const) {
    t.test(`${kind}: the sign-up page renders the configured widget, sends its answer, and says a verification token was issued`, async (t) => {
      const redis = await startRedis()
      t.teardown(() => redis.stop())
      const [apiPort, webPort, plainPort] = await Promise.all([freePort(), freePort(), freePort()])
      const apiBase = `http://127.0.0.1:${apiPort}`

      let captchaEnv: Record<string, string>
      let siteKey: string
      let answer: { token: string, randstr: string }
      let checked: () => Array<[string, string, boolean]>
      if (kind === 'turnstile') {
        const fake = await startFakeSiteverify('turnstile')
        t.teardown(() => fake.stop())
        captchaEnv = { CAPTCHA_SECRET: FAKE_CAPTCHA.secret, CAPTCHA_VERIFY_URL: fake.url }
        siteKey = TURNSTILE_SITE_KEY
        answer = { token: fake.issue('127.0.0.1'), randstr: '' } // the browser reaches the API from 127.0.0.1
        checked = () => fake.checks.map((c) => [String(c.response), String(c.remoteip), c.success])
      } else {
        const fake = await startFakeTencentCaptcha()
        t.teardown(() => fake.stop())
        const c = FAKE_CAPTCHA.tencent
        captchaEnv = { CAPTCHA_VERIFY_URL: fake.url, TENCENT_SECRET_ID: c.secretId, TENCENT_SECRET_KEY: c.secretKey, TENCENT_CAPTCHA_APP_ID: String(c.appId), TENCENT_CAPTCHA_APP_SECRET_KEY: c.appSecretKey }
        siteKey = String(c.appId)
        const { ticket, randstr } = fake.issue('127.0.0.1')
        answer = { token: ticket, randstr }
        checked = () => fake.checks.map((ch) => [String(ch.body.Ticket), String(ch.body.UserIp), ch.outcome === 1])
      }
      const web = await serveStatic({ port: webPort, host: '127.0.0.1', api: apiBase, captcha: { provider: kind, siteKey } })
      t.teardown(() => web.close())
      const plain = await serveStatic({ port: plainPort, host: '127.0.0.1', api: apiBase })
      t.teardown(() => plain.close())

      const env = { REDIS_URL: redis.url, CORS_ORIGINS: `${web.url},${plain.url}`, LOG_LEVEL: 'info', CODE_PEPPER: 'browser-test-pepper' }
      const procs: RunningProcess[] = []
      t.teardown(() => Promise.all(procs.map((p) => p.kill('SIGKILL'))))
      const api = runNode('apps/api/dist/main.js', {
        ...env, ...captchaEnv, HOST: '127.0.0.1', PORT: String(apiPort), CAPTCHA_PROVIDER: kind,
        VERIFICATION_TOKEN_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      })
      procs.push(api)
      const sender = await startSenderProcess({ ...env, SMS_PROVIDER: 'console' })
      procs.push(sender)
      await api.waitForLine((l) => l.msg === 'api listening', 60_000)

      const browser: Browser = await launch()
      t.teardown(() => browser.close())

      // Without a captcha configured the page works as before: no widget, nothing from another origin.
      const plainPage = await browser.newPage()
      const fetched: string[] = []
      plainPage.on('request', (r) => fetched.push(r.url()))
      await plainPage.goto(plain.url)
      await plainPage.waitForLoadState('networkidle')
      t.ok(await plainPage.isHidden('#captcha'), 'no widget container without a captcha')
      t.same(fetched.filter((u) => !u.startsWith(plain.url)), [], 'nothing is loaded from another origin')

      const page = await browser.newPage()
      const consoleLines: string[] = []
      page.on('console', (m) => consoleLines.push(m.text()))
      const stub = STUBS[kind](answer)
      await page.route(stub.url, (route) => route.fulfill({ contentType: 'text/javascript', body: stub.body }))
      await page.goto(web.url)
      await page.waitForSelector(`#captcha[data-provider="${kind}"][data-sitekey="${siteKey}"]`)
      t.ok(await page.isVisible('#captcha'), 'the widget container is shown with the site key from the server')

      await page.fill('#mobile', '13812345678')
      await page.click('#send')
      await page.waitForSelector('#message[data-state="success"]')
      t.equal(await page.getAttribute(kind === 'turnstile' ? '#captcha .widget' : '#captcha', 'data-rendered-with'), siteKey, 'the widget got the site key')
      t.same(checked(), [[answer.token, '127.0.0.1', true]], 'the widget answer went to the API and on to the provider with the client address')
      if (kind === 'turnstile') t.equal(await page.evaluate(() => (window as unknown as { captchaResets?: number }).captchaResets), 1, 'the used token is dropped')

      const line = await sender.waitForLine((l) => /console provider/.test(String(l.msg)) && /code is \d+/.test(String(l.msg)), 20_000)
      await page.fill('#code', /code is (\d+)/.exec(String(line.msg))![1]!)
      await page.click('#verify')
      await page.waitForSelector('#verified-note:has-text("verification token was issued")')
      t.notMatch(await page.textContent('body'), /eyJ[\w-]+\.[\w-]+\./, 'the token itself is not shown')
      t.notOk(consoleLines.some((l) => /eyJ[\w-]+\./.test(l)), 'nor written to the browser console')
    })
  }
}

t.test('the page server refuses a captcha without a site key, in one line', async (t) => {
  const web = runNode('apps/web/serve.mjs', { WEB_PORT: String(await freePort()), CAPTCHA_PROVIDER: 'hcaptcha', CAPTCHA_SECRET: 'not-for-the-page' })
  t.equal(await web.exited, 1)
  t.equal(web.output().trim(), 'invalid configuration: CAPTCHA_PROVIDER=hcaptcha needs CAPTCHA_SITE_KEY for the sign-up page')
})
