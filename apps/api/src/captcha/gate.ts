import { parseMobile, type Config, type Purpose } from '@sms-verify/shared'
import { errors, type ApiError } from '../errors.js'
import type { LoggedRequest } from '../plugins/access-log.js'
import type { Metrics } from '../plugins/metrics.js'
import type { Captcha } from './captcha.js'

export interface CaptchaInput {
  readonly mobile: string
  readonly purpose: Purpose
  readonly captchaToken?: string | undefined
  readonly captchaRandstr?: string | undefined
}

/** Resolves when the send may go on; throws the 400/403/503 that refuses it. */
export type CaptchaGate = (input: CaptchaInput, request: LoggedRequest & { readonly clientAddress: string }) => Promise<void>

const open: CaptchaGate = async () => undefined

/**
 * The captcha check in front of both send routes. It runs before send.lua,
 * so a refused captcha touches no limit and queues nothing. A number that
 * does not parse is left to the send path (400 invalid_mobile, nothing
 * touched either); TEST_NUMBERS skip the captcha.
 */
export function captchaGate(captcha: Captcha | undefined, config: Pick<Config, 'TEST_NUMBERS'>, metrics: Metrics): CaptchaGate {
  if (!captcha) return open
  return async (input, request) => {
    const parsed = parseMobile(input.mobile)
    if (!parsed.ok || config.TEST_NUMBERS.has(parsed.e164)) return
    const refuse = (err: ApiError): ApiError => {
      metrics.refused.inc({ reason: err.error })
      request.logEvent = { event: 'code refused', mobile: parsed.e164, purpose: input.purpose, reason: err.error }
      return err
    }
    if (!input.captchaToken) throw refuse(errors.captchaRequired('captchaToken'))
    if (captcha.needsRandstr && !input.captchaRandstr) throw refuse(errors.captchaRequired('captchaRandstr'))
    const outcome = await captcha.verify({ token: input.captchaToken, randstr: input.captchaRandstr, remoteIp: request.clientAddress }, request.log)
    metrics.captcha.inc({ provider: captcha.provider, outcome })
    if (outcome === 'failed') throw refuse(errors.captchaFailed())
    if (outcome === 'unavailable') throw refuse(errors.captchaUnavailable())
  }
}
