import { createHash } from 'node:crypto'
import { maskMobilesIn, ronglianNumber, type Config, type E164 } from '@sms-verify/shared'
import type { BulkMessage, CodeMessage, Provider, SendOutcome } from '../provider.js'
import { beijingTimestamp } from './carrier-window.js'
import { classifyRonglian } from './ronglian-errors.js'
import { noTemplateFor, requireProviderConfig } from './require-config.js'

/** Ronglian takes up to 200 comma-joined numbers per TemplateSMS call. */
export const RONGLIAN_MAX_NUMBERS = 200

interface TemplateSmsAnswer { statusCode?: string, statusMsg?: string, templateSMS?: { smsMessageSid?: string } }

export function createRonglianProvider(config: Config): Provider {
  const c = requireProviderConfig('ronglian', config, ['RONGLIAN_ACCOUNT_SID', 'RONGLIAN_AUTH_TOKEN', 'RONGLIAN_APP_ID'], 'RONGLIAN_TEMPLATES')
  const base = config.RONGLIAN_BASE_URL.replace(/\/+$/, '')
  const sid = c.RONGLIAN_ACCOUNT_SID

  async function templateSms(mobiles: readonly E164[], templateId: string, datas: readonly string[], signal: AbortSignal): Promise<SendOutcome> {
    const timestamp = beijingTimestamp(Date.now())
    const sig = createHash('md5').update(sid + c.RONGLIAN_AUTH_TOKEN + timestamp).digest('hex').toUpperCase()
    let answer: TemplateSmsAnswer
    try {
      const res = await fetch(`${base}/2013-12-26/Accounts/${encodeURIComponent(sid)}/SMS/TemplateSMS?sig=${sig}`, {
        method: 'POST',
        headers: {
          Accept: 'application/json;charset=utf-8',
          'Content-Type': 'application/json;charset=utf-8',
          Authorization: Buffer.from(`${sid}:${timestamp}`).toString('base64'),
        },
        body: JSON.stringify({ to: mobiles.map(ronglianNumber).join(','), appId: c.RONGLIAN_APP_ID, templateId, datas: [...datas] }),
        signal,
      })
      if (res.status >= 500) return { kind: 'transient', error: `HTTP ${res.status}` }
      answer = await res.json() as TemplateSmsAnswer
    } catch (err) {
      return { kind: 'transient', error: `network: ${maskMobilesIn(err instanceof Error ? err.message : String(err))}` }
    }
    // 000000 means the carrier took the message. Without a smsMessageSid its id is
    // unknown (''), but it is accepted all the same: retrying could send it twice.
    if (answer.statusCode === '000000') return { kind: 'accepted', messageId: answer.templateSMS?.smsMessageSid ?? '' }
    return classifyRonglian(answer.statusCode ?? '', maskMobilesIn(answer.statusMsg ?? 'unexpected answer'), Date.now())
  }

  return {
    name: 'ronglian',
    send(message: CodeMessage, signal: AbortSignal): Promise<SendOutcome> {
      const templateId = c.templates[message.purpose]
      if (!templateId) return Promise.resolve(noTemplateFor('Ronglian', message.purpose, 'RONGLIAN_TEMPLATES'))
      return templateSms([message.mobile], templateId, [message.code, String(message.minutesValid)], signal)
    },
    async sendBulk(message: BulkMessage, signal: AbortSignal): Promise<SendOutcome[]> {
      const templateId = message.templateId ?? (message.purpose && c.templates[message.purpose])
      if (!templateId) return message.mobiles.map(() => ({ kind: 'permanent', error: 'no Ronglian template for this notification' }))
      if (message.mobiles.length > RONGLIAN_MAX_NUMBERS) {
        return message.mobiles.map(() => ({ kind: 'permanent', error: `more than ${RONGLIAN_MAX_NUMBERS} numbers in one TemplateSMS` }))
      }
      // One call answers for all its numbers: the same outcome (and message id) for each.
      const outcome = await templateSms(message.mobiles, templateId, message.params, signal)
      return message.mobiles.map(() => outcome)
    },
  }
}
