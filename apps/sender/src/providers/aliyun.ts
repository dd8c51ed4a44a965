import { aliyunNumber, ConfigError, maskMobilesIn, type Config, type E164 } from '@sms-verify/shared'
import type { BulkMessage, CodeMessage, Provider, Receipt, SendOutcome } from '../provider.js'
import { raceAbort } from './abort.js'
import { classifyAliyun } from './aliyun-errors.js'
import { AliyunPending, querySendDetails } from './aliyun-receipts.js'
import type * as Sdk from './aliyun-sdk.js'
import { noTemplateFor, requireProviderConfig } from './require-config.js'

/** Numbers per SendSms call (comma-joined PhoneNumbers), as Aliyun documents. */
export const ALIYUN_MAX_NUMBERS = 1000

/** `dysmsapi.aliyuncs.com`, `https://host` or `http://127.0.0.1:9000` → what the SDK's Config wants. */
export function parseAliyunEndpoint(endpoint: string): { protocol: 'http' | 'https', endpoint: string } {
  const m = /^(?:(https?):\/\/)?([^/]+)\/?$/.exec(endpoint)
  if (!m) throw new ConfigError(`invalid configuration: ALIYUN_SMS_ENDPOINT must be a host or http(s)://host:port (got ${JSON.stringify(endpoint)})`)
  return { protocol: (m[1] as 'http' | 'https' | undefined) ?? 'https', endpoint: m[2]! }
}

/**
 * Aliyun templates name their variables (`${code}`); a bulk notification's
 * params are `name=value`, or by position `p1`, `p2`, … when they have no name.
 */
export function templateParam(params: readonly string[]): string | undefined {
  if (params.length === 0) return undefined
  const named = params.map((p, i) => {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(p)
    return m ? [m[1]!, m[2]!] : [`p${i + 1}`, p]
  })
  return JSON.stringify(Object.fromEntries(named))
}

export function createAliyunProvider(config: Config): Provider {
  const c = requireProviderConfig('aliyun', config, ['ALIYUN_ACCESS_KEY_ID', 'ALIYUN_ACCESS_KEY_SECRET', 'ALIYUN_SMS_SIGN_NAME'], 'ALIYUN_SMS_TEMPLATES')
  const { protocol, endpoint } = parseAliyunEndpoint(config.ALIYUN_SMS_ENDPOINT)
  // A wrong AccessKey fails over to the next provider; with Aliyun alone it can never succeed.
  const alone = config.SMS_PROVIDER.length === 1
  // Loaded only once Aliyun is configured and its settings pass; main.ts awaits ready() before reading jobs.
  const sdk: Promise<typeof Sdk & ReturnType<typeof Sdk.createAliyunClient>> = import('./aliyun-sdk.js').then((m) => ({
    ...m,
    ...m.createAliyunClient({ accessKeyId: c.ALIYUN_ACCESS_KEY_ID, accessKeySecret: c.ALIYUN_ACCESS_KEY_SECRET, endpoint, protocol, timeoutMs: config.PROVIDER_TIMEOUT_MS }),
  }))
  sdk.catch(() => undefined)  // a failed load is reported by ready() and by each call, not as an unhandled rejection
  // Receipts to pull are only remembered when something will pull them.
  const pending = config.SENDER_RECEIPT_POLL_SECONDS === undefined ? undefined : new AliyunPending(config.SENDER_RECEIPT_POLL_SECONDS * 1000)

  /** One SendSms call for up to ALIYUN_MAX_NUMBERS numbers; one outcome for all of them. */
  async function sendSms(mobiles: readonly E164[], templateCode: string, param: string | undefined, outId: string, signal: AbortSignal): Promise<SendOutcome & { bizId?: string }> {
    try {
      const { client, runtime, SendSmsRequest } = await raceAbort(sdk, signal)
      const request = new SendSmsRequest({
        phoneNumbers: mobiles.map(aliyunNumber).join(','),
        signName: c.ALIYUN_SMS_SIGN_NAME,
        templateCode,
        outId,
        ...(param === undefined ? {} : { templateParam: param }),
      })
      const res = await raceAbort(client.sendSmsWithOptions(request, runtime), signal)
      const body = res.body
      // OK means Aliyun took the message: accepted even without a BizId, as retrying could send it twice.
      if (body?.code === 'OK') return { kind: 'accepted', messageId: outId, ...(body.bizId ? { bizId: body.bizId } : {}) }
      return classifyAliyun(body?.code ?? 'isp.SYSTEM_ERROR', maskMobilesIn(body?.message ?? 'answer without a code'), Date.now(), alone)
    } catch (err) {
      return failureOf(err, alone)
    }
  }

  return {
    name: 'aliyun',
    receipts: true,
    async ready() { await sdk },
    async send(message: CodeMessage, signal: AbortSignal): Promise<SendOutcome> {
      const templateCode = c.templates[message.purpose]
      if (!templateCode) return noTemplateFor('Aliyun', message.purpose, 'ALIYUN_SMS_TEMPLATES')
      const param = JSON.stringify({ code: message.code, minutes: String(message.minutesValid) })
      // OutId is the request id: receipts (pushed or pulled) come back with it, and the sender maps it to the request.
      const { bizId, ...outcome } = await sendSms([message.mobile], templateCode, param, message.requestId, signal)
      if (outcome.kind === 'accepted' && pending) pending.add({ requestId: message.requestId, mobile: message.mobile, bizId, sentAt: Date.now() })
      return outcome
    },
    async sendBulk(message: BulkMessage, signal: AbortSignal): Promise<SendOutcome[]> {
      const templateCode = message.templateId ?? (message.purpose && c.templates[message.purpose])
      if (!templateCode) return message.mobiles.map(() => ({ kind: 'permanent', error: 'no Aliyun template for this notification' }))
      const param = templateParam(message.params)
      const outcomes: SendOutcome[] = []
      for (let i = 0; i < message.mobiles.length; i += ALIYUN_MAX_NUMBERS) {
        const chunk = message.mobiles.slice(i, i + ALIYUN_MAX_NUMBERS)
        // One call answers for all its numbers: the same outcome for each. The bulk
        // record keeps Aliyun's BizId; no receipt is matched to a bulk job.
        const { bizId, ...outcome } = await sendSms(chunk, templateCode, param, message.requestId, signal)
        const reported = outcome.kind === 'accepted' && bizId ? { ...outcome, messageId: bizId } : outcome
        for (const _ of chunk) outcomes.push(reported)
      }
      return outcomes
    },
    ...(pending ? {
      async pullReceipts(signal: AbortSignal): Promise<Receipt[]> {
        const { client, runtime, QuerySendDetailsRequest } = await raceAbort(sdk, signal)
        return querySendDetails({ client, runtime, QuerySendDetailsRequest }, pending, signal)
      },
    } : {}),
  }
}

/** A thrown SDK error: gateway code with its HTTP status, or the network (timeouts and aborts included). */
function failureOf(err: unknown, alone: boolean): Exclude<SendOutcome, { kind: 'accepted' }> {
  const e = err as { code?: unknown, statusCode?: unknown, data?: { Message?: unknown }, message?: unknown }
  const text = maskMobilesIn(typeof e?.data?.Message === 'string' ? e.data.Message : typeof e?.message === 'string' ? e.message : String(err))
  if (typeof e?.code === 'string' && e.code && e.code !== 'undefined' && typeof e.statusCode === 'number') {
    // A 5xx is Aliyun's trouble whatever its code says.
    if (e.statusCode >= 500) return { kind: 'transient', error: `HTTP ${e.statusCode} ${e.code}: ${text}` }
    return classifyAliyun(e.code, text, Date.now(), alone)
  }
  if (typeof e?.statusCode === 'number') return { kind: 'transient', error: `HTTP ${e.statusCode}: ${text}` }
  return { kind: 'transient', error: `network: ${text}` }
}
