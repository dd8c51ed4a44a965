import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import { sms } from 'tencentcloud-sdk-nodejs-sms'
import { ConfigError, endpointSignedAs, maskMobilesIn, type Config, type E164 } from '@sms-verify/shared'
import type { BulkMessage, CodeMessage, Provider, Receipt, SendOutcome } from '../provider.js'
import { raceAbort } from './abort.js'
import { classifyTencent } from './tencent-errors.js'
import { noTemplateFor, requireProviderConfig } from './require-config.js'

const API_VERSION_CLIENT = sms.v20210111.Client
type SmsClient = InstanceType<typeof API_VERSION_CLIENT>

/** Tencent's limits: numbers per SendSms, receipts per PullSmsSendStatus. */
export const TENCENT_MAX_NUMBERS = 200
export const TENCENT_PULL_LIMIT = 100
/** Tencent's verification-code templates take 0 to 6 digits. */
export const TENCENT_MAX_CODE_LENGTH = 6

interface SendStatus { SerialNo?: string, PhoneNumber?: string, Fee?: number, Code?: string, Message?: string }
interface PullStatus { SerialNo?: string, PhoneNumber?: string, ReportStatus?: string, Description?: string, UserReceiveTime?: number }

/** `sms.tencentcloudapi.com`, `https://host` or `http://127.0.0.1:9000` → protocol and host apart, as the SDK wants them. */
export function parseTencentEndpoint(endpoint: string): { protocol: 'http://' | 'https://', host: string } {
  const m = /^(https?:\/\/)?([^/]+)\/?$/.exec(endpoint)
  if (!m) throw new ConfigError(`invalid configuration: TENCENT_SMS_ENDPOINT must be a host or http(s)://host:port (got ${JSON.stringify(endpoint)})`)
  return { protocol: (m[1] as 'http://' | 'https://' | undefined) ?? 'https://', host: m[2]! }
}

/**
 * TC3-HMAC-SHA256 signs a credential scope `date/service/tc3_request`. The SDK
 * (tencentcloud-sdk-nodejs-common, pinned in package.json) has no option for the
 * service: it takes `client.endpoint.split('.')[0]`, while the URL is
 * `protocol + client.endpoint + path` and the signed `host` is that URL's
 * hostname without its port (as Tencent signs it). For `sms.tencentcloudapi.com`
 * and its regional forms the first label is `sms` and the plain string is used.
 * Any other endpoint (`127.0.0.1:9000`, a private gateway) would be signed as
 * service `127`; there the endpoint is a String object that is the real host in
 * every use but `split`, which splits `sms.<host>` so the first label is `sms`.
 * `checkSigningEndpoint` proves both readings at startup, and the provider tests
 * prove the SDK's signature against the fake, which recomputes it for `sms`.
 */
export const endpointSignedAsSms = (host: string): string => endpointSignedAs('sms', host)

/** What the SDK will make of the client's endpoint: the URL's host, and the signing service. */
export function checkSigningEndpoint(client: Pick<SmsClient, 'endpoint' | 'path' | 'profile'>, host: string): void {
  const protocol = client.profile.httpProfile!.protocol!
  const sent = new URL(`${protocol}${client.endpoint}${client.path}`).host
  const meant = new URL(`${protocol}${host}/`).host
  const service = client.endpoint.split('.')[0]
  if (sent !== meant || service !== 'sms') {
    throw new Error(`Tencent SDK endpoint check failed: requests would go to ${sent} signed for service ${String(service)} (expected ${meant}, sms)`)
  }
}

export function createTencentProvider(config: Config): Provider {
  const c = requireProviderConfig('tencent', config,
    ['TENCENT_SECRET_ID', 'TENCENT_SECRET_KEY', 'TENCENT_SMS_SDK_APP_ID', 'TENCENT_SMS_SIGN'], 'TENCENT_SMS_TEMPLATES')
  if (config.CODE_LENGTH > TENCENT_MAX_CODE_LENGTH) {
    throw new ConfigError(`invalid configuration: CODE_LENGTH ${config.CODE_LENGTH} is more than the ${TENCENT_MAX_CODE_LENGTH} digits Tencent verification templates take`)
  }
  const { protocol, host } = parseTencentEndpoint(config.TENCENT_SMS_ENDPOINT)
  // An explicit agent: keep-alive for a hot path, and the SDK would otherwise route through $http_proxy.
  const agent = protocol === 'https://' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true })
  const client: SmsClient = new API_VERSION_CLIENT({
    credential: { secretId: c.TENCENT_SECRET_ID, secretKey: c.TENCENT_SECRET_KEY },
    region: config.TENCENT_SMS_REGION,
    profile: {
      httpProfile: {
        protocol,
        endpoint: host,
        reqMethod: 'POST',
        // seconds; the SDK's default is 60. The sender's signal is the real deadline.
        reqTimeout: Math.max(1, Math.ceil(config.PROVIDER_TIMEOUT_MS / 1000)),
        agent,
      },
    },
  })
  client.endpoint = endpointSignedAsSms(host)
  checkSigningEndpoint(client, host)

  const call = async <T>(action: string, req: object, signal: AbortSignal): Promise<T> =>
    raceAbort(client.request(action, req, { signal }) as Promise<T>, signal)

  async function sendMany(mobiles: readonly E164[], templateId: string, params: readonly string[], signal: AbortSignal): Promise<SendOutcome[]> {
    let statuses: SendStatus[]
    try {
      const res = await call<{ SendStatusSet?: SendStatus[] }>('SendSms', {
        PhoneNumberSet: [...mobiles],
        SmsSdkAppId: c.TENCENT_SMS_SDK_APP_ID,
        SignName: c.TENCENT_SMS_SIGN,
        TemplateId: templateId,
        TemplateParamSet: [...params],
      }, signal)
      statuses = res.SendStatusSet ?? []
    } catch (err) {
      const outcome = failureOf(err)
      return mobiles.map(() => outcome)
    }
    const now = Date.now()
    const byNumber = new Map(statuses.map((s) => [s.PhoneNumber, s]))
    return mobiles.map((mobile, i) => {
      const s = byNumber.get(mobile) ?? statuses[i]
      if (!s) return { kind: 'transient', error: 'Tencent answered without a status for this number' }
      if (s.Code === 'Ok' && s.SerialNo) return { kind: 'accepted', messageId: s.SerialNo, ...(s.Fee === undefined ? {} : { fee: s.Fee }) }
      return classifyTencent(s.Code ?? 'InternalError', maskMobilesIn(s.Message ?? ''), now)
    })
  }

  return {
    name: 'tencent',
    receipts: true,
    async send(message: CodeMessage, signal: AbortSignal): Promise<SendOutcome> {
      const templateId = c.templates[message.purpose]
      if (!templateId) return noTemplateFor('Tencent', message.purpose, 'TENCENT_SMS_TEMPLATES')
      const [outcome] = await sendMany([message.mobile], templateId, [message.code, String(message.minutesValid)], signal)
      return outcome!
    },
    async sendBulk(message: BulkMessage, signal: AbortSignal): Promise<SendOutcome[]> {
      const templateId = message.templateId ?? (message.purpose && c.templates[message.purpose])
      if (!templateId) return message.mobiles.map(() => ({ kind: 'permanent', error: 'no Tencent template for this notification' }))
      if (message.mobiles.length > TENCENT_MAX_NUMBERS) {
        return message.mobiles.map(() => ({ kind: 'permanent', error: `more than ${TENCENT_MAX_NUMBERS} numbers in one SendSms` }))
      }
      return sendMany(message.mobiles, templateId, message.params, signal)
    },
    async pullReceipts(signal: AbortSignal): Promise<Receipt[]> {
      const res = await call<{ PullSmsSendStatusSet?: PullStatus[] }>('PullSmsSendStatus', {
        Limit: TENCENT_PULL_LIMIT, SmsSdkAppId: c.TENCENT_SMS_SDK_APP_ID,
      }, signal)
      const now = Date.now()
      return (res.PullSmsSendStatusSet ?? [])
        .filter((s) => s.SerialNo && s.PhoneNumber && s.ReportStatus)
        .map((s) => {
          const delivered = s.ReportStatus === 'SUCCESS'
          // A delivered receipt's Description is a success note (用户短信送达成功), not a reason.
          const reason = !delivered && s.Description ? { reason: s.Description } : {}
          return { provider: 'tencent', messageId: s.SerialNo!, mobile: s.PhoneNumber! as E164, delivered, ...reason, at: s.UserReceiveTime ? s.UserReceiveTime * 1000 : now }
        })
    },
  }
}

/** A thrown SDK error: API-level code, HTTP status, or the network (timeouts and aborts included). */
function failureOf(err: unknown): Exclude<SendOutcome, { kind: 'accepted' }> {
  const e = err as { code?: unknown, httpCode?: unknown, message?: unknown }
  const message = maskMobilesIn(typeof e?.message === 'string' ? e.message : String(err))
  if (typeof e?.code === 'string' && e.code) return classifyTencent(e.code, message, Date.now())
  if (typeof e?.httpCode === 'number') return { kind: 'transient', error: `HTTP ${e.httpCode}: ${message}` }
  return { kind: 'transient', error: `network: ${message}` }
}
