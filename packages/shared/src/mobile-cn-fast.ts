import { Metadata } from 'libphonenumber-js/max'
import type { E164, MobileParse } from './mobile.js'

// The send route's common case, a mainland mobile, without a full libphonenumber parse
// (about 10 µs → 0.3 µs). parseMobile falls back to libphonenumber whenever this says undefined;
// test/mobile.test.ts holds the two to the same answers.

/** The parts of libphonenumber's (untyped) Metadata API that the fast path reads. */
interface PlanView {
  callingCode(): string
  nationalNumberPattern(): string
  possibleLengths(): number[] | undefined
  nationalPrefixForParsing(): string | undefined
  IDDPrefix(): string | undefined
  type(type: 'MOBILE'): { pattern(): string, possibleLengths(): number[] | undefined } | undefined
}

interface MetadataView {
  selectNumberingPlan(country: string): void
  numberingPlan?: PlanView
  getCountryCodesForCallingCode(callingCode: string): string[] | undefined
  hasCallingCode(callingCode: string): boolean | undefined
}

interface CnFast {
  national: RegExp
  mobile: RegExp
  mobileLengths: number[] | undefined
  /** libphonenumber strips a match of this as national prefix / carrier code. */
  prefix: RegExp | undefined
  /** libphonenumber strips a match of this as an international dialling prefix. */
  idd: RegExp
  /** `86` + 11 digits is longer than any CN number, so libphonenumber always reads the `86` as the calling code. */
  thirteenTooLong: boolean
}

/** CN's patterns, taken once from the same metadata parsePhoneNumberFromString uses; null (full path only) if anything is missing. */
const cn = ((): CnFast | null => {
  try {
    const metadata = new Metadata() as unknown as MetadataView
    metadata.selectNumberingPlan('CN')
    const plan = metadata.numberingPlan
    const mobile = plan?.type('MOBILE')
    const national = plan?.nationalNumberPattern()
    const idd = plan?.IDDPrefix()
    const countries = metadata.getCountryCodesForCallingCode('86')
    // An empty MOBILE pattern means "same as fixed line" (getType() answers FIXED_LINE_OR_MOBILE); not handled here.
    if (!plan || !mobile || !mobile.pattern() || !national || !idd) return null
    // `+86…` and `86…` must mean CN and nothing else (`8` is no calling code, 86 is CN's alone).
    if (plan.callingCode() !== '86' || countries?.length !== 1 || countries[0] !== 'CN' || metadata.hasCallingCode('8')) return null
    const lengths = plan.possibleLengths()
    const prefix = plan.nationalPrefixForParsing()
    return {
      national: new RegExp(`^(?:${national})$`),
      mobile: new RegExp(`^(?:${mobile.pattern()})$`),
      mobileLengths: mobile.possibleLengths(),
      prefix: prefix ? new RegExp(`^(?:${prefix})`) : undefined,
      idd: new RegExp(`^(?:${idd})`),
      thirteenTooLong: lengths !== undefined && lengths.length > 0 && lengths[0]! < 13 && lengths[lengths.length - 1]! < 13,
    }
  } catch {
    return null
  }
})()

/** Separators libphonenumber accepts (and drops) anywhere in a number; other whitespace is left to the full path. */
const SEPARATORS = /[ \-().]/g
/** Mainland China mobiles, national digits: 11 starting 1[3-9] (also the original Django service's pattern). */
export const CN_MOBILE_DIGITS = '1[3-9]\\d{9}'
/** An optional `+86`/`86`, then a national number of CN_MOBILE_DIGITS. */
const CN_FORMS = new RegExp(`^(\\+86|86)?(${CN_MOBILE_DIGITS})$`)

/**
 * Answers exactly as parseLibphonenumber would for `1XXXXXXXXXX`, `86`/`+86` + that, with separators,
 * by replaying the steps of libphonenumber's parse() and getType() that apply to them;
 * undefined whenever one of those steps would do something else (strip a prefix, say), meaning "ask libphonenumber".
 */
export function parseCnFast(input: string): MobileParse | undefined {
  const m = cn && CN_FORMS.exec(input.replace(SEPARATORS, ''))
  if (!cn || !m) return undefined
  const [digits, cc] = m
  const nsn = m[2]!
  if (cn.prefix?.test(nsn)) return undefined
  if (cc === '86') {
    // No `+`: libphonenumber first tries `86…` as an IDD-prefixed or national number.
    if (cn.idd.test(digits) || cn.prefix?.test(digits)) return undefined
    if (!cn.thirteenTooLong && (cn.national.test(digits) || !cn.national.test(nsn))) return undefined
  } else if (cc === undefined && cn.idd.test(nsn)) {
    return undefined
  }
  const valid = cn.national.test(nsn) && (cn.mobileLengths === undefined || cn.mobileLengths.includes(nsn.length)) && cn.mobile.test(nsn)
  return valid ? { ok: true, e164: `+86${nsn}` as E164, region: 'CN' } : { ok: false }
}

