import { ConfigError, type Config } from '@sms-verify/shared'
import type { Captcha } from './captcha.js'
import { createSiteverifyCaptcha } from './siteverify.js'

type CaptchaConfig = Pick<Config, 'CAPTCHA_PROVIDER' | 'CAPTCHA_SECRET' | 'CAPTCHA_VERIFY_URL' | 'TENCENT_CAPTCHA_APP_ID'
  | 'TENCENT_CAPTCHA_APP_SECRET_KEY' | 'TENCENT_SECRET_ID' | 'TENCENT_SECRET_KEY'>

/** The names of the settings a provider needs that are unset, in one startup line. */
function requireSettings(config: CaptchaConfig, names: ReadonlyArray<keyof CaptchaConfig>): void {
  const missing = names.filter((n) => config[n] === undefined)
  if (missing.length > 0) {
    throw new ConfigError(`invalid configuration: CAPTCHA_PROVIDER=${config.CAPTCHA_PROVIDER} needs ${missing.join(', ')}`)
  }
}

/**
 * CAPTCHA_PROVIDER and its settings → the provider's check, or undefined when captcha is off.
 * The Tencent SDK is loaded only when Tencent is chosen: it costs every other start a few hundred ms.
 */
export async function createCaptcha(config: CaptchaConfig): Promise<Captcha | undefined> {
  const provider = config.CAPTCHA_PROVIDER
  if (provider === undefined) return undefined
  if (provider === 'tencent') {
    requireSettings(config, ['TENCENT_CAPTCHA_APP_ID', 'TENCENT_CAPTCHA_APP_SECRET_KEY', 'TENCENT_SECRET_ID', 'TENCENT_SECRET_KEY'])
    const { createTencentCaptcha } = await import('./tencent.js')
    return createTencentCaptcha({
      secretId: config.TENCENT_SECRET_ID!, secretKey: config.TENCENT_SECRET_KEY!,
      appId: config.TENCENT_CAPTCHA_APP_ID!, appSecretKey: config.TENCENT_CAPTCHA_APP_SECRET_KEY!,
      url: config.CAPTCHA_VERIFY_URL,
    })
  }
  requireSettings(config, ['CAPTCHA_SECRET'])
  return createSiteverifyCaptcha(provider, config.CAPTCHA_SECRET!, config.CAPTCHA_VERIFY_URL)
}
