import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { Provider, SendOutcome } from '../provider.js'

/**
 * The default provider: sends nothing, logs the message so a developer can
 * sign up locally. This is the only place in the product that logs a code,
 * which is why it goes in the message text (the logger redacts `code` fields).
 */
export function createConsoleProvider(logger: Logger): Provider {
  const log = logger.child({ provider: 'console' })
  return {
    name: 'console',
    async send(message): Promise<SendOutcome> {
      log.info({ requestId: message.requestId, mobile: message.mobile, purpose: message.purpose },
        `sms (console provider): your ${message.purpose} code is ${message.code}, valid ${message.minutesValid} minutes`)
      return { kind: 'accepted', messageId: `console-${randomUUID()}` }
    },
    async sendBulk(message): Promise<SendOutcome[]> {
      return message.mobiles.map((mobile) => {
        log.info({ requestId: message.requestId, mobile, purpose: message.purpose, templateId: message.templateId },
          `sms (console provider): notification with params ${JSON.stringify(message.params)}`)
        return { kind: 'accepted', messageId: `console-${randomUUID()}` }
      })
    },
  }
}
