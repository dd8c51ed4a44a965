import { maskMobile, maskMobilesIn } from '@sms-verify/shared'

/**
 * How the CLI shows one field of a status record. Only numbers are masked:
 * the mobile fields always, free text (errors, per-recipient results) wherever
 * it quotes one. Identifiers (`entryId`, `requestId`, `messageId`, any `…Id`)
 * are shown as they are: a stream entry id such as `1790000004225-0` starts
 * with 13 digits but is no mobile.
 */
export function recordField(name: string, value: string): string | number {
  if (name === 'mobile') return maskMobile(value)
  if (name === 'mobiles') return value.split(',').map(maskMobile).join(',')
  if (name.endsWith('Id')) return value
  if (/^\d+$/.test(value) && value.length < 16) return Number(value)
  return maskMobilesIn(value)
}
