import { createHash, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What the fake answers when a call includes this number (national digits, or 00 + digits). */
export type RonglianBehaviour =
  | { statusCode: string, statusMsg?: string }
  | { httpStatus: number }
  | { stall: true, ms?: number }

export interface RonglianRequest {
  readonly headers: IncomingMessage['headers']
  readonly body: { to: string, appId: string, templateId: string, datas: string[] }
}

export interface FakeRonglian {
  /** `http://127.0.0.1:port`, the value for RONGLIAN_BASE_URL */
  readonly baseUrl: string
  /** every request that passed the sig, Authorization and body checks */
  readonly requests: RonglianRequest[]
  /** status codes of the requests refused by those checks */
  readonly refused: string[]
  readonly behaviour: Map<string, RonglianBehaviour>
  stop(): Promise<void>
}

export const FAKE_RONGLIAN = { accountSid: '8a216da8fakeaccountsid000000001', authToken: 'fakeronglianauthtoken00000000001', appId: '8a216da8fakeappid0000000000001' } as const

const BEIJING_MS = 8 * 3600_000

/** yyyyMMddHHmmss in Beijing time → epoch ms, or NaN. */
function parseBeijing(ts: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(ts)
  if (!m) return NaN
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number]
  return Date.UTC(y, mo - 1, d, h, mi, s) - BEIJING_MS
}

/**
 * Ronglian (yuntongxun) template SMS on 127.0.0.1: checks the URL's account,
 * `sig` = MD5(accountSid + authToken + timestamp) in upper case, the
 * Authorization header base64(accountSid:timestamp) with a Beijing-time
 * timestamp close to now, the JSON headers and the body fields.
 */
export async function startFakeRonglian(options: { accountSid?: string, authToken?: string, appId?: string, maxSkewSeconds?: number } = {}): Promise<FakeRonglian> {
  const sid = options.accountSid ?? FAKE_RONGLIAN.accountSid
  const token = options.authToken ?? FAKE_RONGLIAN.authToken
  const appId = options.appId ?? FAKE_RONGLIAN.appId
  const maxSkew = (options.maxSkewSeconds ?? 300) * 1000
  const requests: RonglianRequest[] = []
  const refused: string[] = []
  const behaviour = new Map<string, RonglianBehaviour>()
  const stalls = new Set<() => void>()

  const answer = (res: ServerResponse, body: object, status = 200) => {
    res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' })
    res.end(JSON.stringify(body))
  }
  const refuse = (res: ServerResponse, statusCode: string, statusMsg: string) => {
    refused.push(statusCode)
    answer(res, { statusCode, statusMsg })
  }

  async function handle(req: IncomingMessage, raw: string, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://x')
    const m = /^\/2013-12-26\/Accounts\/([^/]+)\/SMS\/TemplateSMS$/.exec(url.pathname)
    if (req.method !== 'POST' || !m) return refuse(res, '111605', 'unknown resource')
    if (m[1] !== sid) return refuse(res, '111109', 'account does not exist')
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return refuse(res, '111101', 'Content-Type must be application/json')
    if (!String(req.headers.accept ?? '').startsWith('application/json')) return refuse(res, '111102', 'Accept must be application/json')
    const decoded = Buffer.from(String(req.headers.authorization ?? ''), 'base64').toString('utf8')
    const [authSid, timestamp = ''] = decoded.split(':')
    if (authSid !== sid) return refuse(res, '111103', 'Authorization names another account')
    const at = parseBeijing(timestamp)
    if (!(Math.abs(Date.now() - at) <= maxSkew)) return refuse(res, '111104', 'Authorization timestamp expired')
    const expected = createHash('md5').update(sid + token + timestamp).digest('hex').toUpperCase()
    if (url.searchParams.get('sig') !== expected) return refuse(res, '111108', 'sig check failed')
    let body: RonglianRequest['body']
    try { body = JSON.parse(raw) as RonglianRequest['body'] } catch { return refuse(res, '160031', 'body is not JSON') }
    if (body.appId !== appId) return refuse(res, '111111', 'appId does not exist')
    if (typeof body.templateId !== 'string' || !body.templateId) return refuse(res, '112307', 'templateId is empty')
    if (!Array.isArray(body.datas)) return refuse(res, '112308', 'datas is empty')
    const to = typeof body.to === 'string' ? body.to.split(',') : []
    if (to.length === 0 || to.length > 200) return refuse(res, '112314', 'to must hold 1 to 200 numbers')
    if (to.some((n) => !/^(1[3-9]\d{9}|00\d{6,15})$/.test(n))) return refuse(res, '160042', 'number format is wrong')
    requests.push({ headers: req.headers, body })
    for (const n of to) {
      const b = behaviour.get(n)
      if (!b) continue
      if ('stall' in b) {
        await new Promise<void>((resolve) => {
          const done = () => { stalls.delete(done); resolve() }
          stalls.add(done)
          if (b.ms !== undefined) setTimeout(done, b.ms)
        })
        continue
      }
      if ('httpStatus' in b) return answer(res, { statusCode: '172001', statusMsg: 'gateway error' }, b.httpStatus)
      return answer(res, { statusCode: b.statusCode, statusMsg: b.statusMsg ?? 'programmed code' })
    }
    answer(res, { statusCode: '000000', templateSMS: { dateCreated: timestamp, smsMessageSid: randomUUID().replace(/-/g, '') } })
  }

  const server = createServer((req, res) => {
    let raw = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => { raw += c })
    req.on('end', () => void handle(req, raw, res))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests, refused, behaviour,
    async stop() {
      for (const release of [...stalls]) release()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
