import { parseMobile, type E164 } from '@sms-verify/shared'
import { errors } from './errors.js'

/** The number a person typed → E.164 of an allowed region, or the 400 that says why not. */
export function admitMobile(input: string, allowedRegions: readonly string[]): E164 {
  const parsed = parseMobile(input)
  if (!parsed.ok) throw errors.invalidMobile()
  if (parsed.region === undefined || !allowedRegions.includes(parsed.region)) throw errors.regionNotAllowed()
  return parsed.e164
}
