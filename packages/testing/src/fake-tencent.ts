import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What the fake answers for one number. */
export type TencentBehaviour =
  | { code: string, message?: string }
  /** an API-level error for the whole request, as `{Response: {Error}}` */
  | { apiError: string, message?: string }
  /** hold the answer until `stop()` (or `ms` milliseconds) */
  | { stall: true, ms?: number }

export interface TencentRequest {
  readonly action: string
  readonly region: string | undefined
  readonly headers: IncomingMessage['headers']
  readonly body: Record<string, unknown>
}

export interface TencentPullStatus {
  SerialNo: string
  PhoneNumber: string
  ReportStatus: 'SUCCESS' | 'FAIL'
  Description?: string
  UserReceiveTime?: number
  CountryCode?: string
  SubscriberNumber?: string
}

export interface FakeTencent {
  /** `http://127.0.0.1:port`, the value for TENCENT_SMS_ENDPOINT */
  readonly endpoint: string
  /** every request that passed the signature and header checks */
  readonly requests: TencentRequest[]
  /** requests refused before any action ran (bad signature, headers …), by error code */
  readonly refused: string[]
  /** number (E.164) → behaviour; unlisted numbers are accepted */
  readonly behaviour: Map<string, TencentBehaviour>
  /** receipts PullSmsSendStatus hands out, each once, oldest first */
  readonly receipts: TencentPullStatus[]
  /** SerialNo given to each accepted number, in order */
  readonly accepted: Array<{ serialNo: string, mobile: string, templateId: string, params: string[] }>
  stop(): Promise<void>
}

export interface FakeTencentOptions {
  secretId?: string
  secretKey?: string
  smsSdkAppId?: string
  /** largest clock skew accepted for X-TC-Timestamp, seconds (Tencent: 300) */
  maxSkewSeconds?: number
}

export const FAKE_TENCENT = { secretId: 'AKIDfakeTencentSecretId00', secretKey: 'fakeTencentSecretKey0000000000', smsSdkAppId: '1400000000' } as const

const sha256hex = (s: string | Buffer) => createHash('sha256').update(s).digest('hex')
const hmac = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s).digest()

/**
 * A Tencent Cloud SMS endpoint (API 2021-01-11) on 127.0.0.1 that checks what
 * the real one checks: the TC3-HMAC-SHA256 signature recomputed from the secret
 * key, X-TC-Action, X-TC-Version, X-TC-Region and the timestamp's freshness.
 */
export async function startFakeTencent(options: FakeTencentOptions = {}): Promise<FakeTencent> {
  const secretId = options.secretId ?? FAKE_TENCENT.secretId
  const secretKey = options.secretKey ?? FAKE_TENCENT.secretKey
  const appId = options.smsSdkAppId ?? FAKE_TENCENT.smsSdkAppId
  const maxSkew = options.maxSkewSeconds ?? 300
  const requests: TencentRequest[] = []
  const refused: string[] = []
  const behaviour = new Map<string, TencentBehaviour>()
  const receipts: TencentPullStatus[] = []
  const accepted: FakeTencent['accepted'] = []
  const stalls = new Set<() => void>()
  let serial = 0

  const answer = (res: ServerResponse, response: object) => {
    const requestId = randomUUID()
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ Response: { ...response, RequestId: requestId } }))
  }
  const fail = (res: ServerResponse, code: string, message: string) => answer(res, { Error: { Code: code, Message: message } })

  /** The checks of Tencent's API gateway; returns an error code, or undefined when the request may run. */
  function authenticate(req: IncomingMessage, raw: Buffer): [string, string] | undefined {
    const h = req.headers
    const auth = String(h.authorization ?? '')
    const m = /^TC3-HMAC-SHA256 Credential=([^/]+)\/(\d{4}-\d{2}-\d{2})\/([^/]+)\/tc3_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth)
    if (!m) return ['AuthFailure.InvalidAuthorization', 'Authorization is not in the TC3-HMAC-SHA256 format']
    const [, id, date, service, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string]
    if (id !== secretId) return ['AuthFailure.SecretIdNotFound', 'the SecretId does not exist']
    const timestamp = Number(h['x-tc-timestamp'])
    if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > maxSkew) return ['AuthFailure.SignatureExpire', 'signature expired']
    if (new Date(timestamp * 1000).toISOString().slice(0, 10) !== date) return ['AuthFailure.SignatureFailure', 'credential date does not match X-TC-Timestamp']
    if (service !== 'sms') return ['AuthFailure.SignatureFailure', `credential scope names service ${service}, not sms`]
    if (signedHeaders !== 'content-type;host') return ['AuthFailure.SignatureFailure', 'SignedHeaders must be content-type;host']
    const hostname = String(h.host ?? '').replace(/:\d+$/, '')
    const url = new URL(req.url ?? '/', 'http://x')
    const canonical = ['POST', url.pathname, url.search.slice(1),
      `content-type:${String(h['content-type'] ?? '')}\nhost:${hostname}\n`, signedHeaders, sha256hex(raw)].join('\n')
    const stringToSign = ['TC3-HMAC-SHA256', String(timestamp), `${date}/sms/tc3_request`, sha256hex(canonical)].join('\n')
    const key = hmac(hmac(hmac(`TC3${secretKey}`, date), 'sms'), 'tc3_request')
    const expected = Buffer.from(createHmac('sha256', key).update(stringToSign).digest('hex'))
    if (!timingSafeEqual(expected, Buffer.from(signature))) return ['AuthFailure.SignatureFailure', 'the provided credentials could not be validated']
    if (h['x-tc-version'] !== '2021-01-11') return ['NoSuchVersion', `version ${String(h['x-tc-version'])} does not exist`]
    if (!h['x-tc-region']) return ['MissingParameter', 'X-TC-Region is required']
    return undefined
  }

  async function sendSms(res: ServerResponse, body: Record<string, unknown>) {
    const numbers = body.PhoneNumberSet
    if (!Array.isArray(numbers) || numbers.length === 0) return fail(res, 'MissingParameter.EmptyPhoneNumberSet', 'PhoneNumberSet is empty')
    if (numbers.length > 200) return fail(res, 'LimitExceeded.PhoneNumberCountLimit', 'more than 200 numbers')
    // 单次请求最多支持200个手机号且要求全为境内手机号或全为境外手机号
    const domestic = numbers.filter((n: unknown) => String(n).startsWith('+86')).length
    if (domestic > 0 && domestic < numbers.length) return fail(res, 'UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber', '群发请求里既有国内手机号也有国际手机号')
    if (body.SmsSdkAppId !== appId) return fail(res, 'InvalidParameterValue.SdkAppIdNotExist', 'SmsSdkAppId does not exist')
    if (typeof body.TemplateId !== 'string' || !body.TemplateId) return fail(res, 'MissingParameter', 'TemplateId is required')
    if (typeof body.SignName !== 'string' || !body.SignName) return fail(res, 'FailedOperation.MissingSignature', 'SignName is required')
    const params = (body.TemplateParamSet ?? []) as string[]
    for (const n of numbers) {
      const b = behaviour.get(String(n))
      if (b && 'stall' in b) await new Promise<void>((resolve) => {
        const done = () => { stalls.delete(done); resolve() }
        stalls.add(done)
        if (b.ms !== undefined) setTimeout(done, b.ms)
      })
      if (b && 'apiError' in b) return fail(res, b.apiError, b.message ?? 'programmed error')
    }
    const set = numbers.map((n: unknown) => {
      const mobile = String(n)
      const b = behaviour.get(mobile)
      if (!/^\+\d{6,15}$/.test(mobile)) return status(mobile, 'InvalidParameterValue.IncorrectPhoneNumber', 'incorrect phone number')
      if (b && 'code' in b && b.code !== 'Ok') return status(mobile, b.code, b.message ?? 'programmed code')
      const serialNo = `2645:${String(++serial).padStart(12, '0')}`
      accepted.push({ serialNo, mobile, templateId: String(body.TemplateId), params })
      return { ...status(mobile, 'Ok', 'send success'), SerialNo: serialNo, Fee: 1 }
    })
    answer(res, { SendStatusSet: set })
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const problem = req.method === 'POST' ? authenticate(req, raw) : ['InvalidRequest', 'POST only'] as [string, string]
      if (problem) { refused.push(problem[0]); return fail(res, ...problem) }
      let body: Record<string, unknown>
      try { body = JSON.parse(raw.toString('utf8')) as Record<string, unknown> } catch { return fail(res, 'FailedOperation.JsonParseFail', 'body is not JSON') }
      const action = String(req.headers['x-tc-action'])
      const region = req.headers['x-tc-region'] as string | undefined
      if (action === 'SendSms') {
        requests.push({ action, region, headers: req.headers, body })
        return void sendSms(res, body)
      }
      if (action === 'PullSmsSendStatus') {
        requests.push({ action, region, headers: req.headers, body })
        if (body.SmsSdkAppId !== appId) return fail(res, 'InvalidParameterValue.SdkAppIdNotExist', 'SmsSdkAppId does not exist')
        const limit = Math.min(100, Number(body.Limit) || 0)
        return answer(res, { PullSmsSendStatusSet: receipts.splice(0, limit) })
      }
      refused.push('InvalidAction')
      fail(res, 'InvalidAction', `action ${action} does not exist`)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests, refused, behaviour, receipts, accepted,
    async stop() {
      for (const release of [...stalls]) release()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function status(mobile: string, code: string, message: string) {
  return { SerialNo: '', PhoneNumber: mobile, Fee: 0, SessionContext: '', Code: code, Message: message, IsoCode: mobile.startsWith('+86') ? 'CN' : '' }
}
