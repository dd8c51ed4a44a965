import t from 'tap'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { allPartitions } from '@sms-verify/shared'
import { freePort, repoRoot, runNode, startRedis, waitFor, type RunningProcess } from '@sms-verify/testing'
import { chromium, type Browser, type Page } from 'playwright-core'
import { serveStatic } from '../serve.mjs'

const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = join(repoRoot, 'test-artifacts')

if (!existsSync(CHROMIUM)) {
  t.skip(`${CHROMIUM} is absent: install Debian's chromium (apt-get install chromium) to run the browser test`)
} else {
  t.test('the sign-up page in a real browser: allowed origin verifies, another origin is blocked by CORS', async (t) => {
    mkdirSync(ARTIFACTS, { recursive: true })
    const redis = await startRedis()
    t.teardown(() => redis.stop())
    const [apiPort, metricsPort, webPort, otherPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()])
    const web = await serveStatic({ port: webPort, host: '127.0.0.1', api: `http://127.0.0.1:${apiPort}` })
    t.teardown(() => web.close())
    const origin = `http://127.0.0.1:${webPort}`
    const env = { REDIS_URL: redis.url, CORS_ORIGINS: origin, LOG_LEVEL: 'info', CODE_PEPPER: 'browser-test-pepper' }
    const procs: RunningProcess[] = []
    t.teardown(() => Promise.all(procs.map((p) => p.kill('SIGKILL'))))
    const api = runNode('apps/api/dist/main.js', { ...env, HOST: '127.0.0.1', PORT: String(apiPort) })
    const sender = runNode('apps/sender/dist/main.js', { ...env, SMS_PROVIDER: 'console', METRICS_PORT: String(metricsPort), SENDER_BLOCK_MS: '200' })
    procs.push(api, sender)
    await api.waitForLine((l) => l.msg === 'api listening', 20_000)

    const browser: Browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
    })
    t.teardown(() => browser.close())
    const apiBase = `http://127.0.0.1:${apiPort}`
    const open = async (at: string): Promise<Page> => {
      const page = await browser.newPage()
      await page.goto(`${at}/?api=${encodeURIComponent('http://evil.example')}`)
      return page
    }

    // The allowed origin: request, read the code from the console provider, verify.
    const page = await open(origin)
    t.equal(await page.textContent('#api-base'), apiBase, 'the API address comes from the server; a crafted ?api= is ignored')
    await page.fill('#mobile', '13812345678')
    await page.click('#send')
    await page.waitForSelector('#message[data-state="success"]')
    t.match(await page.textContent('#send'), /Resend in (59|60)s/, 'the button counts down')
    t.ok(await page.isDisabled('#send'))
    const line = await sender.waitForLine((l) => /console provider/.test(String(l.msg)) && /code is \d+/.test(String(l.msg)), 20_000)
    const code = /code is (\d+)/.exec(String(line.msg))![1]!
    await page.fill('#code', code)
    await page.click('#verify')
    await page.waitForSelector('#message[data-state="success"]:has-text("Verified")')
    t.match(await page.textContent('#message'), /Verified/)
    await page.screenshot({ path: join(ARTIFACTS, 'signup-verified.png'), fullPage: true })

    // A reload forgets the countdown; the API's 429 and retryAfter bring it back.
    await page.reload()
    await page.fill('#mobile', '13812345678')
    await page.click('#send')
    await page.waitForSelector('#message[data-state="error"]')
    t.match(await page.textContent('#send'), /Resend in [1-6]\d?s/, 'the countdown honours retryAfter')
    t.ok(await page.isDisabled('#send'))
    await page.screenshot({ path: join(ARTIFACTS, 'signup-too-frequent.png'), fullPage: true })

    // Another origin (same page, other port): the preflight is refused and the POST never leaves the browser.
    const other = await serveStatic({ port: otherPort, host: '127.0.0.1', api: apiBase })
    t.teardown(() => other.close())
    const blocked = await open(other.url)
    const failed: string[] = []
    blocked.on('requestfailed', (r) => failed.push(`${r.method()} ${r.url()}`))
    await blocked.fill('#mobile', '13912345678')
    await blocked.click('#send')
    await blocked.waitForSelector('#message[data-state="error"]')
    t.match(await blocked.textContent('#message'), /Network error/)
    await waitFor(() => failed.some((f) => f.includes('/v1/sms-codes')), { what: 'the browser to report the blocked request' })
    const streams = allPartitions(1, false).map((p) => p.stream)
    t.equal(await redis.client().xlen(streams[0]!), 1, 'only the allowed page queued a job')
    t.notOk(await blocked.isDisabled('#send'), 'the button is usable again after a network error')
    await blocked.screenshot({ path: join(ARTIFACTS, 'signup-blocked-origin.png'), fullPage: true })
  })
}
