import t from 'tap'
import { existsSync } from 'node:fs'
import { FAKE_CAPTCHA, freePort, runNode, startFakeSiteverify, startRedis, type RunningProcess } from '@sms-verify/testing'
import { chromium, type Browser } from 'playwright-core'
import { serveStatic } from '../serve.mjs'

const CHROMIUM = '/usr/bin/chromium'
const SITE_KEY = '1x00000000000000000000AA'

/**
 * Stands in for Cloudflare's api.js (no internet here): the same global API, and a
 * "person" who solves the challenge at once with `token`.
 */
const turnstileStub = (token: string) => `
window.turnstile = {
  render(el, o) { el.dataset.renderedWith = o.sitekey; setTimeout(() => o.callback(${JSON.stringify(token)}), 0); return 'w1' },
  reset() { window.turnstileResets = (window.turnstileResets || 0) + 1 },
};
window.smsCaptchaLoaded();
`

if (!existsSync(CHROMIUM)) {
  t.skip(`${CHROMIUM} is absent: install Debian's chromium (apt-get install chromium) to run the browser test`)
} else {
  t.test('the sign-up page renders the configured captcha, sends its token, and says a verification token was issued', async (t) => {
    const redis = await startRedis()
    t.teardown(() => redis.stop())
    const siteverify = await startFakeSiteverify('turnstile')
    t.teardown(() => siteverify.stop())
    const [apiPort, metricsPort, webPort, plainPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()])
    const apiBase = `http://127.0.0.1:${apiPort}`
    const web = await serveStatic({ port: webPort, host: '127.0.0.1', api: apiBase, captcha: { provider: 'turnstile', siteKey: SITE_KEY } })
    t.teardown(() => web.close())
    const plain = await serveStatic({ port: plainPort, host: '127.0.0.1', api: apiBase })
    t.teardown(() => plain.close())

    const { privateKey } = await import('node:crypto').then((c) => c.generateKeyPairSync('ed25519'))
    const env = { REDIS_URL: redis.url, CORS_ORIGINS: `${web.url},${plain.url}`, LOG_LEVEL: 'info', CODE_PEPPER: 'browser-test-pepper' }
    const procs: RunningProcess[] = []
    t.teardown(() => Promise.all(procs.map((p) => p.kill('SIGKILL'))))
    const api = runNode('apps/api/dist/main.js', {
      ...env, HOST: '127.0.0.1', PORT: String(apiPort),
      CAPTCHA_PROVIDER: 'turnstile', CAPTCHA_SECRET: FAKE_CAPTCHA.secret, CAPTCHA_VERIFY_URL: siteverify.url,
      VERIFICATION_TOKEN_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    })
    const sender = runNode('apps/sender/dist/main.js', { ...env, SMS_PROVIDER: 'console', METRICS_PORT: String(metricsPort), SENDER_BLOCK_MS: '200' })
    procs.push(api, sender)
    await api.waitForLine((l) => l.msg === 'api listening', 60_000)

    const browser: Browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
    })
    t.teardown(() => browser.close())

    // Without a captcha configured the page works as before: no widget, no script fetched.
    const plainPage = await browser.newPage()
    const fetched: string[] = []
    plainPage.on('request', (r) => fetched.push(r.url()))
    await plainPage.goto(plain.url)
    await plainPage.waitForLoadState('networkidle')
    t.ok(await plainPage.isHidden('#captcha'), 'no widget container without a captcha')
    t.notOk(fetched.some((u) => !u.startsWith(plain.url)), 'nothing is loaded from another origin')

    const token = siteverify.issue('127.0.0.1') // the browser reaches the API from 127.0.0.1
    const page = await browser.newPage()
    const consoleLines: string[] = []
    page.on('console', (m) => consoleLines.push(m.text()))
    await page.route('https://challenges.cloudflare.com/**', (route) => route.fulfill({ contentType: 'text/javascript', body: turnstileStub(token) }))
    await page.goto(web.url)
    await page.waitForSelector(`#captcha[data-provider="turnstile"][data-sitekey="${SITE_KEY}"] .widget[data-rendered-with="${SITE_KEY}"]`, { state: 'attached' })
    t.ok(await page.isVisible('#captcha'), 'the widget container is shown with the site key from the server')

    await page.fill('#mobile', '13812345678')
    await page.click('#send')
    await page.waitForSelector('#message[data-state="success"]')
    t.same(siteverify.checks.map((c) => [c.response, c.remoteip, c.success]), [[token, '127.0.0.1', true]], 'the widget token went to the API and on to siteverify')
    t.equal(await page.evaluate(() => (window as unknown as { turnstileResets?: number }).turnstileResets), 1, 'the used token is dropped')

    const line = await sender.waitForLine((l) => /console provider/.test(String(l.msg)) && /code is \d+/.test(String(l.msg)), 20_000)
    await page.fill('#code', /code is (\d+)/.exec(String(line.msg))![1]!)
    await page.click('#verify')
    await page.waitForSelector('#message[data-state="success"]:has-text("verification token was issued")')
    const shown = await page.textContent('body')
    t.notMatch(shown, /eyJ[\w-]+\.[\w-]+\./, 'the token itself is not shown')
    t.notOk(consoleLines.some((l) => /eyJ[\w-]+\./.test(l)), 'nor written to the browser console')
  })
}
