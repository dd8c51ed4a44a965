import { parsePhoneNumberFromString } from 'libphonenumber-js/max'
import { CN_MOBILE_DIGITS, parseCnFast } from './mobile-cn-fast.js'

/** A mobile number in E.164, e.g. `+8613812345678`. */
export type E164 = string & { readonly __brand: 'E164' }

export type MobileParse =
  | { ok: true, e164: E164, region: string | undefined }
  | { ok: false }

const CN_MOBILE = new RegExp(`^${CN_MOBILE_DIGITS}$`)

/**
 * Normalises what a person types (`13812345678`, `+8613812345678`,
 * `+86 138-1234-5678`) to E.164; anything that is not a valid mobile number
 * is refused. Region defaults to CN for numbers without a country code.
 */
export function parseMobile(input: string): MobileParse {
  if (!typable(input)) return { ok: false }
  return parseCnFast(input) ?? parseLibphonenumber(input)
}

/** @internal parseMobile without the CN fast path, for the tests that hold the two to the same answers. */
export function parseMobileFull(input: string): MobileParse {
  return typable(input) ? parseLibphonenumber(input) : { ok: false }
}

/** @internal The CN fast path alone; undefined where parseMobile asks libphonenumber instead. */
export function parseMobileFast(input: string): MobileParse | undefined {
  return typable(input) ? parseCnFast(input) : { ok: false }
}

const typable = (input: string): boolean => input.length <= 32 && /^[+\d][\d\s\-().]*$/.test(input)

function parseLibphonenumber(input: string): MobileParse {
  const phone = parsePhoneNumberFromString(input, 'CN')
  if (!phone) return { ok: false }
  // getType() is undefined for an invalid number, so it is the validity check too (isValid() would match every pattern again).
  const type = phone.getType()
  if (type !== 'MOBILE' && type !== 'FIXED_LINE_OR_MOBILE') return { ok: false }
  if (phone.country === 'CN' && !CN_MOBILE.test(phone.nationalNumber)) return { ok: false }
  return { ok: true, e164: phone.number as E164, region: phone.country }
}

/** The original Django service's pattern, for the compatibility route. */
export const LEGACY_MOBILE_PATTERN = `^${CN_MOBILE_DIGITS}$`

/** `+8613812345678` → `138****5678`; short or foreign numbers keep 3 and 4 digits too. */
export function maskMobile(mobile: string): string {
  const digits = mobile.startsWith('+86') ? mobile.slice(3) : mobile.replace(/^\+/, '')
  if (digits.length < 8) return '****'
  return `${digits.slice(0, 3)}****${digits.slice(-4)}`
}

/**
 * Masks every run of 11+ digits (optionally with +) inside free text such as a URL, and the
 * secret path segment of the delivery-receipt routes.
 */
export const maskMobilesIn = (text: string): string =>
  text.replace(/\+?\d{11,15}/g, (m) => maskMobile(m)).replace(/(\/callbacks\/[a-z]+\/)[^/?#]+/g, '$1[redacted]')

/** Ronglian wants CN numbers as 11 national digits and others as `00` + digits. */
export function ronglianNumber(mobile: E164): string {
  return mobile.startsWith('+86') ? mobile.slice(3) : `00${mobile.slice(1)}`
}
