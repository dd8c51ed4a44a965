import type { Captcha, CaptchaOutcome } from './captcha.js'
import { CAPTCHA_TIMEOUT_MS } from './captcha.js'

export const SITEVERIFY_URLS = {
  turnstile: 'https://challenges.cloudflare.com/turnstile/v0/siteverify',
  hcaptcha: 'https://api.hcaptcha.com/siteverify',
} as const

/** Error codes that mean our configuration is wrong, not the person's answer: not their fault, so not a 403. */
const OUR_FAULT = new Set(['missing-input-secret', 'invalid-input-secret', 'sitekey-secret-mismatch', 'internal-error', 'bad-request'])

interface SiteverifyReply { success?: unknown, 'error-codes'?: unknown }

/**
 * Cloudflare Turnstile and hCaptcha share one protocol: a form POST of
 * secret, response and remoteip to siteverify, answered `{success, error-codes}`.
 */
export function createSiteverifyCaptcha(provider: 'turnstile' | 'hcaptcha', secret: string, url: string = SITEVERIFY_URLS[provider]): Captcha {
  return {
    provider,
    needsRandstr: false,
    async verify({ token, remoteIp }, log): Promise<CaptchaOutcome> {
      let reply: SiteverifyReply
      try {
        const res = await fetch(url, {
          method: 'POST',
          body: new URLSearchParams({ secret, response: token, remoteip: remoteIp }),
          signal: AbortSignal.timeout(CAPTCHA_TIMEOUT_MS),
        })
        if (!res.ok) {
          log.warn({ provider, status: res.status }, 'captcha provider answered an HTTP error')
          return 'unavailable'
        }
        reply = await res.json() as SiteverifyReply
      } catch (err) {
        log.warn({ provider, reason: (err as Error).name }, 'captcha provider did not answer')
        return 'unavailable'
      }
      if (reply.success === true) return 'ok'
      const codes = Array.isArray(reply['error-codes']) ? reply['error-codes'].map(String) : []
      if (codes.some((c) => OUR_FAULT.has(c))) {
        log.error({ provider, codes }, 'captcha provider refused our request: check CAPTCHA_SECRET')
        return 'unavailable'
      }
      return 'failed'
    },
  }
}
