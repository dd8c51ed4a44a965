import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What the fake answers for one number (E.164) of a SendSms. */
export type AliyunBehaviour =
  /** a business answer: HTTP 200 with this Code (e.g. isv.BUSINESS_LIMIT_CONTROL) */
  | { code: string, message?: string }
  /** a gateway error: this HTTP status with Aliyun's error body (Throttling.User 400, ServiceUnavailable 503 …) */
  | { httpStatus: number, code: string, message?: string }
  /** hold the answer until `stop()` (or `ms` milliseconds) */
  | { stall: true, ms?: number }

export interface AliyunRequest {
  readonly action: string
  readonly query: Record<string, string>
  readonly headers: IncomingMessage['headers']
}

export interface AliyunAccepted {
  readonly bizId: string
  /** PhoneNumbers as sent, split at commas */
  readonly phoneNumbers: string[]
  readonly signName: string
  readonly templateCode: string
  readonly templateParam: Record<string, string> | undefined
  readonly outId: string | undefined
}

/** One QuerySendDetails row; SendStatus 1 waiting, 2 failed, 3 delivered. */
export interface AliyunSendDetail {
  PhoneNum: string
  SendStatus: 1 | 2 | 3
  ErrCode: string
  TemplateCode: string
  Content: string
  SendDate: string
  ReceiveDate: string
  OutId: string
  BizId: string
}

export interface FakeAliyun {
  /** `http://127.0.0.1:port`, the value for ALIYUN_SMS_ENDPOINT */
  readonly endpoint: string
  /** every request that passed the signature checks */
  readonly requests: AliyunRequest[]
  /** requests refused before any action ran (signature, AccessKey, nonce …), by error code */
  readonly refused: string[]
  /** number (E.164) → behaviour; unlisted numbers are accepted */
  readonly behaviour: Map<string, AliyunBehaviour>
  /** every SendSms the fake accepted, in order */
  readonly accepted: AliyunAccepted[]
  /** what QuerySendDetails knows: one row per accepted number */
  readonly details: AliyunSendDetail[]
  /** the carrier's verdict for the rows of this OutId: what QuerySendDetails reports from then on */
  report(outId: string, delivered: boolean, errCode?: string, receiveDate?: string): void
  stop(): Promise<void>
}

export interface FakeAliyunOptions {
  accessKeyId?: string
  accessKeySecret?: string
  signName?: string
  /** largest clock skew accepted for x-acs-date, seconds (Aliyun: 15 minutes) */
  maxSkewSeconds?: number
}

export const FAKE_ALIYUN = { accessKeyId: 'LTAIfakeAliyunAccessKey0', accessKeySecret: 'fakeAliyunAccessKeySecret00000', signName: '阿里云短信测试' } as const

const API_VERSION = '2017-05-25'
const ALGORITHM = 'ACS3-HMAC-SHA256'
const sha256hex = (s: string | Buffer) => createHash('sha256').update(s).digest('hex')
/** RFC 3986 encoding, as Aliyun's canonical query string wants it. */
const encode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
/** `yyyyMMdd` and `yyyy-MM-dd HH:mm:ss` in Beijing time, as Aliyun writes dates. */
const beijing = (ms: number) => new Date(ms + 8 * 3600_000).toISOString()
const dateTime = (ms: number) => beijing(ms).slice(0, 19).replace('T', ' ')

/** Every header the SDK signs for an RPC call; a signature that leaves one out is refused. */
const REQUIRED_SIGNED = ['host', 'x-acs-action', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-version']

class Refusal {
  constructor(readonly status: number, readonly code: string, readonly message: string) {}
}

/**
 * A Dysmsapi (2017-05-25) endpoint on 127.0.0.1 that checks what the real one
 * checks: the ACS3-HMAC-SHA256 signature recomputed from the AccessKey secret
 * over the canonical request (method, path, query, signed headers, payload
 * hash), the AccessKey id, the signed headers, the payload hash, the date's
 * freshness and the nonce's single use; then SendSms's sign, template,
 * TemplateParam and numbers. Errors come in Aliyun's shape and statuses.
 */
export async function startFakeAliyun(options: FakeAliyunOptions = {}): Promise<FakeAliyun> {
  const accessKeyId = options.accessKeyId ?? FAKE_ALIYUN.accessKeyId
  const secret = options.accessKeySecret ?? FAKE_ALIYUN.accessKeySecret
  const signName = options.signName ?? FAKE_ALIYUN.signName
  const maxSkew = options.maxSkewSeconds ?? 900
  const requests: AliyunRequest[] = []
  const refused: string[] = []
  const behaviour = new Map<string, AliyunBehaviour>()
  const accepted: AliyunAccepted[] = []
  const details: AliyunSendDetail[] = []
  const nonces = new Set<string>()
  const stalls = new Set<() => void>()
  let biz = 0

  const json = (res: ServerResponse, status: number, body: object) => {
    res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' })
    res.end(JSON.stringify({ RequestId: randomUUID().toUpperCase(), ...body }))
  }
  const refuse = (res: ServerResponse, r: Refusal) =>
    json(res, r.status, { HostId: 'dysmsapi.aliyuncs.com', Code: r.code, Message: r.message, Recommend: 'https://api.aliyun.com/troubleshoot' })

  function parseQuery(search: string): Record<string, string> {
    const out: Record<string, string> = {}
    for (const pair of search.split('&').filter(Boolean)) {
      const i = pair.indexOf('=')
      const key = decodeURIComponent(i < 0 ? pair : pair.slice(0, i))
      out[key] = i < 0 ? '' : decodeURIComponent(pair.slice(i + 1))
    }
    return out
  }

  /** The gateway's checks; throws a Refusal, or returns when the request may run. */
  function authenticate(req: IncomingMessage, path: string, query: Record<string, string>, raw: Buffer): void {
    const h = req.headers
    const m = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(String(h.authorization ?? ''))
    if (!m) throw new Refusal(400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards.')
    const [, id, signedList, signature] = m as unknown as [string, string, string, string]
    if (id !== accessKeyId) throw new Refusal(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.')
    const signed = signedList.split(';')
    const sorted = [...signed].sort()
    if (signed.join(';') !== sorted.join(';') || REQUIRED_SIGNED.some((name) => !signed.includes(name))) {
      throw new Refusal(400, 'IncompleteSignature', `SignedHeaders must list, sorted, at least ${REQUIRED_SIGNED.join(';')}`)
    }
    const payloadHash = String(h['x-acs-content-sha256'] ?? '')
    if (payloadHash !== sha256hex(raw)) throw new Refusal(400, 'SignatureDoesNotMatch', 'x-acs-content-sha256 does not match the body')
    const canonicalQuery = Object.keys(query).sort().map((k) => `${k}=${encode(query[k]!)}`).join('&')
    const canonicalHeaders = signed.map((name) => `${name}:${String(h[name] ?? '').trim()}\n`).join('')
    const canonical = [req.method, path, canonicalQuery, canonicalHeaders, signedList, payloadHash].join('\n')
    const expected = Buffer.from(createHmac('sha256', secret).update(`${ALGORITHM}\n${sha256hex(canonical)}`).digest('hex'))
    if (!timingSafeEqual(expected, Buffer.from(signature))) {
      throw new Refusal(400, 'SignatureDoesNotMatch', 'Specified signature does not match our calculation.')
    }
    const date = Date.parse(String(h['x-acs-date'] ?? ''))
    if (!Number.isFinite(date) || Math.abs(Date.now() - date) > maxSkew * 1000) {
      throw new Refusal(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.')
    }
    const nonce = String(h['x-acs-signature-nonce'] ?? '')
    if (!nonce || nonces.has(nonce)) throw new Refusal(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.')
    nonces.add(nonce)
    if (h['x-acs-version'] !== API_VERSION) throw new Refusal(400, 'InvalidVersion', 'Specified parameter Version is not valid.')
  }

  async function sendSms(res: ServerResponse, q: Record<string, string>) {
    if (!q.PhoneNumbers) return refuse(res, new Refusal(400, 'MissingPhoneNumbers', 'PhoneNumbers is mandatory for this action.'))
    if (!q.SignName) return refuse(res, new Refusal(400, 'MissingSignName', 'SignName is mandatory for this action.'))
    if (!q.TemplateCode) return refuse(res, new Refusal(400, 'MissingTemplateCode', 'TemplateCode is mandatory for this action.'))
    const numbers = q.PhoneNumbers.split(',')
    const ok = (body: object) => json(res, 200, body)
    if (numbers.length > 1000) return ok({ Code: 'isv.MOBILE_COUNT_OVER_LIMIT', Message: '手机号码数量超过限制' })
    // Aliyun's forms: 11 national digits for the mainland, country code + number otherwise; never + or 00.
    if (numbers.some((n) => !/^(1[3-9]\d{9}|[1-9]\d{6,14})$/.test(n))) return ok({ Code: 'isv.MOBILE_NUMBER_ILLEGAL', Message: '非法手机号' })
    if (q.SignName !== signName) return ok({ Code: 'isv.SMS_SIGNATURE_ILLEGAL', Message: '该账号下找不到对应签名' })
    if (!/^SMS_\d+$/.test(q.TemplateCode)) return ok({ Code: 'isv.SMS_TEMPLATE_ILLEGAL', Message: '该账号下找不到对应模板' })
    let templateParam: Record<string, string> | undefined
    if (q.TemplateParam !== undefined) {
      try { templateParam = JSON.parse(q.TemplateParam) as Record<string, string> } catch { templateParam = undefined }
      if (!templateParam || typeof templateParam !== 'object' || Object.values(templateParam).some((v) => typeof v !== 'string')) {
        return ok({ Code: 'isv.INVALID_JSON_PARAM', Message: 'JSON参数不合法，只接受字符串值' })
      }
    }
    for (const n of numbers) {
      const b = behaviour.get(/^1[3-9]\d{9}$/.test(n) ? `+86${n}` : `+${n}`)
      if (!b) continue
      if ('stall' in b) {
        await new Promise<void>((resolve) => {
          const done = () => { stalls.delete(done); resolve() }
          stalls.add(done)
          if (b.ms !== undefined) setTimeout(done, b.ms)
        })
        continue
      }
      if ('httpStatus' in b) return refuse(res, new Refusal(b.httpStatus, b.code, b.message ?? 'programmed error'))
      if (b.code !== 'OK') return ok({ Code: b.code, Message: b.message ?? 'programmed code' })
    }
    const bizId = `${String(++biz).padStart(12, '0')}^0`
    accepted.push({ bizId, phoneNumbers: numbers, signName: q.SignName, templateCode: q.TemplateCode, templateParam, outId: q.OutId })
    const now = Date.now()
    for (const n of numbers) {
      details.push({ PhoneNum: n, SendStatus: 1, ErrCode: '', TemplateCode: q.TemplateCode, Content: `【${q.SignName}】${JSON.stringify(templateParam ?? {})}`,
        SendDate: dateTime(now), ReceiveDate: '', OutId: q.OutId ?? '', BizId: bizId })
    }
    ok({ Code: 'OK', Message: 'OK', BizId: bizId })
  }

  function querySendDetails(res: ServerResponse, q: Record<string, string>) {
    if (!q.PhoneNumber) return refuse(res, new Refusal(400, 'MissingPhoneNumber', 'PhoneNumber is mandatory for this action.'))
    if (!/^\d{8}$/.test(q.SendDate ?? '')) return refuse(res, new Refusal(400, 'MissingSendDate', 'SendDate is mandatory for this action.'))
    const pageSize = Number(q.PageSize)
    const page = Number(q.CurrentPage)
    if (!(pageSize >= 1 && pageSize <= 50) || !(page >= 1)) return json(res, 200, { Code: 'isv.INVALID_PARAMETERS', Message: '参数异常' })
    const rows = details.filter((d) => d.PhoneNum === q.PhoneNumber && d.SendDate.replace(/-/g, '').startsWith(q.SendDate!) && (!q.BizId || d.BizId === q.BizId))
    const shown = rows.slice((page - 1) * pageSize, page * pageSize).map(({ BizId: _, ...row }) => row)
    json(res, 200, { Code: 'OK', Message: 'OK', TotalCount: String(rows.length), SmsSendDetailDTOs: { SmsSendDetailDTO: shown } })
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x')
      const query = parseQuery(url.search.slice(1))
      try {
        if (req.method !== 'POST' && req.method !== 'GET') throw new Refusal(400, 'UnsupportedHTTPMethod', 'This http method is not supported.')
        authenticate(req, url.pathname, query, Buffer.concat(chunks))
      } catch (err) {
        if (!(err instanceof Refusal)) throw err
        refused.push(err.code)
        return refuse(res, err)
      }
      const action = String(req.headers['x-acs-action'] ?? '')
      if (action === 'SendSms') {
        requests.push({ action, query, headers: req.headers })
        return void sendSms(res, query)
      }
      if (action === 'QuerySendDetails') {
        requests.push({ action, query, headers: req.headers })
        return querySendDetails(res, query)
      }
      refused.push('InvalidAction.NotFound')
      refuse(res, new Refusal(404, 'InvalidAction.NotFound', `Specified api ${action} is not found.`))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests, refused, behaviour, accepted, details,
    report(outId, delivered, errCode = delivered ? 'DELIVERED' : 'MK:0001', receiveDate = dateTime(Date.now())) {
      for (const d of details.filter((x) => x.OutId === outId)) {
        d.SendStatus = delivered ? 3 : 2
        d.ErrCode = errCode
        d.ReceiveDate = receiveDate
      }
    },
    async stop() {
      for (const release of [...stalls]) release()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
