import { configSchema, loadConfig, type Config } from '@sms-verify/shared'
import { FAKE_RONGLIAN, FAKE_TENCENT } from '@sms-verify/testing'

/** A sender config that points both providers at the fakes. */
export function providerConfig(env: Record<string, string> = {}): Config {
  return loadConfig(configSchema, {
    PROVIDER_TIMEOUT_MS: '2000',
    TENCENT_SECRET_ID: FAKE_TENCENT.secretId,
    TENCENT_SECRET_KEY: FAKE_TENCENT.secretKey,
    TENCENT_SMS_SDK_APP_ID: FAKE_TENCENT.smsSdkAppId,
    TENCENT_SMS_SIGN: '腾讯云',
    TENCENT_SMS_TEMPLATES: 'register=707336,login=727055,reset_password=737001',
    RONGLIAN_ACCOUNT_SID: FAKE_RONGLIAN.accountSid,
    RONGLIAN_AUTH_TOKEN: FAKE_RONGLIAN.authToken,
    RONGLIAN_APP_ID: FAKE_RONGLIAN.appId,
    RONGLIAN_TEMPLATES: 'register=1,login=2,reset_password=3',
    ...env,
  }) as Config
}

export const signal = (ms = 5000) => AbortSignal.timeout(ms)
