import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { checkTc3 } from './tc3.js'

/**
 * Local captcha providers on 127.0.0.1 that check what the real ones check:
 * the secret, that a token is used once, and that it is presented for the
 * client address it was solved from. `issue(ip)` plays the widget: it hands
 * out a token as if a person at `ip` had solved the challenge.
 */
interface Stallable {
  /** hold every answer until `stop()`: a provider that does not answer */
  stall: boolean
  stop(): Promise<void>
}

export interface SiteverifyCheck {
  readonly secret: string | null
  readonly response: string | null
  readonly remoteip: string | null
  readonly success: boolean
  readonly errorCodes: readonly string[]
}

export interface FakeSiteverify extends Stallable {
  /** the value for CAPTCHA_VERIFY_URL */
  readonly url: string
  /** every siteverify call, answered or not yet */
  readonly checks: SiteverifyCheck[]
  issue(remoteIp: string): string
}

export interface TencentCaptchaCheck {
  readonly body: Record<string, unknown>
  /** CaptchaCode answered, or the API error code */
  readonly outcome: number | string
}

export interface FakeTencentCaptcha extends Stallable {
  /** the value for CAPTCHA_VERIFY_URL */
  readonly url: string
  readonly checks: TencentCaptchaCheck[]
  /** requests refused before the action ran (bad signature …), by Tencent error code */
  readonly refused: string[]
  issue(remoteIp: string): { ticket: string, randstr: string }
}

export const FAKE_CAPTCHA = {
  secret: '0x4AAAAAAAfakeCaptchaSecret000000',
  tencent: { secretId: 'AKIDfakeCaptchaSecretId000', secretKey: 'fakeCaptchaSecretKey00000000000', appId: 190000001, appSecretKey: 'fakeAppSecretKey0000000**' },
} as const

const sameSecret = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))

async function listen(handler: (req: IncomingMessage, raw: Buffer, res: ServerResponse) => void): Promise<{ server: Server, base: string, stalls: Set<() => void> }> {
  const stalls = new Set<() => void>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => handler(req, Buffer.concat(chunks), res))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stalls }
}

function held(stalls: Set<() => void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => { stalls.delete(done); resolve() }
    stalls.add(done)
  })
}

async function stopServer(server: Server, stalls: Set<() => void>): Promise<void> {
  for (const release of [...stalls]) release()
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  if (res.destroyed) return
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

/** Cloudflare Turnstile or hCaptcha `siteverify`: form POST of secret, response, remoteip. */
export async function startFakeSiteverify(kind: 'turnstile' | 'hcaptcha', secret: string = FAKE_CAPTCHA.secret): Promise<FakeSiteverify> {
  const tokens = new Map<string, string>() // token → the address it was solved from
  const spent = new Set<string>()
  const checks: SiteverifyCheck[] = []
  const duplicate = kind === 'turnstile' ? 'timeout-or-duplicate' : 'invalid-or-already-seen-response'
  const { server, base, stalls } = await listen((req, raw, res) => {
    if (req.method !== 'POST' || !String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      return json(res, 200, { success: false, 'error-codes': ['bad-request'] })
    }
    const form = new URLSearchParams(raw.toString('utf8'))
    const [given, response, remoteip] = [form.get('secret'), form.get('response'), form.get('remoteip')]
    const verdict = (): string[] => {
      if (!given) return ['missing-input-secret']
      if (!sameSecret(given, secret)) return ['invalid-input-secret']
      if (!response) return ['missing-input-response']
      const solvedFrom = tokens.get(response)
      if (solvedFrom === undefined) return ['invalid-input-response']
      if (spent.has(response)) return [duplicate]
      spent.add(response) // checked once, good or not, as the real ones do
      if (remoteip !== solvedFrom) return ['invalid-input-response']
      return []
    }
    const errorCodes = verdict()
    const check = { secret: given, response, remoteip, success: errorCodes.length === 0, errorCodes }
    checks.push(check)
    const answer = () => json(res, 200, check.success
      ? { success: true, challenge_ts: new Date().toISOString(), hostname: '127.0.0.1', 'error-codes': [] }
      : { success: false, 'error-codes': errorCodes })
    if (fake.stall) void held(stalls).then(answer)
    else answer()
  })
  const fake: FakeSiteverify = {
    url: `${base}/siteverify`,
    checks,
    stall: false,
    issue(remoteIp) {
      const token = `${kind === 'turnstile' ? '0.' : 'P1_'}${randomBytes(24).toString('base64url')}`
      tokens.set(token, remoteIp)
      return token
    },
    stop: () => stopServer(server, stalls),
  }
  return fake
}

/**
 * Tencent Cloud Captcha `DescribeCaptchaResult` (API 2019-07-22) behind a
 * TC3-HMAC-SHA256 check. CaptchaCode as this fake answers it: 1 pass, 7 the
 * randstr or the user's address do not match the ticket, 9 ticket used
 * before, 15 unknown ticket, 16 another CaptchaAppId, 100 wrong AppSecretKey.
 */
export async function startFakeTencentCaptcha(o: Partial<typeof FAKE_CAPTCHA.tencent> = {}): Promise<FakeTencentCaptcha> {
  const c = { ...FAKE_CAPTCHA.tencent, ...o }
  const tickets = new Map<string, { randstr: string, ip: string }>()
  const spent = new Set<string>()
  const checks: TencentCaptchaCheck[] = []
  const refused: string[] = []
  const { server, base, stalls } = await listen((req, raw, res) => {
    const reply = (response: object) => json(res, 200, { Response: { ...response, RequestId: randomBytes(16).toString('hex') } })
    const problem = req.method === 'POST'
      ? checkTc3(req, raw, { secretId: c.secretId, secretKey: c.secretKey, service: 'captcha', version: '2019-07-22', maxSkewSeconds: 300 })
      : ['InvalidRequest', 'POST only'] as [string, string]
    const action = String(req.headers['x-tc-action'])
    const fail = (code: string, message: string) => { refused.push(code); reply({ Error: { Code: code, Message: message } }) }
    if (problem) return fail(...problem)
    if (action !== 'DescribeCaptchaResult') return fail('InvalidAction', `action ${action} does not exist`)
    let body: Record<string, unknown>
    try { body = JSON.parse(raw.toString('utf8')) as Record<string, unknown> } catch { return fail('FailedOperation', 'body is not JSON') }
    for (const p of ['CaptchaType', 'Ticket', 'UserIp', 'Randstr', 'CaptchaAppId', 'AppSecretKey']) {
      if (body[p] === undefined || body[p] === '') return fail('MissingParameter', `the parameter ${p} is missing`)
    }
    const code = ((): number => {
      if (body.CaptchaType !== 9) return 7
      if (body.CaptchaAppId !== c.appId) return 16
      if (!sameSecret(String(body.AppSecretKey), c.appSecretKey)) return 100
      const ticket = tickets.get(String(body.Ticket))
      if (!ticket) return 15
      if (spent.has(String(body.Ticket))) return 9
      spent.add(String(body.Ticket))
      return ticket.randstr === body.Randstr && ticket.ip === body.UserIp ? 1 : 7
    })()
    checks.push({ body, outcome: code })
    const answer = () => reply({ CaptchaCode: code, CaptchaMsg: code === 1 ? 'OK' : 'verify failed', EvilLevel: 0, GetCaptchaTime: 0 })
    if (fake.stall) void held(stalls).then(answer)
    else answer()
  })
  const fake: FakeTencentCaptcha = {
    url: `${base}/`,
    checks,
    refused,
    stall: false,
    issue(remoteIp) {
      const ticket = `t03${randomBytes(24).toString('base64url')}`
      const randstr = `@${randomBytes(3).toString('base64url')}`
      tickets.set(ticket, { randstr, ip: remoteIp })
      return { ticket, randstr }
    },
    stop: () => stopServer(server, stalls),
  }
  return fake
}
