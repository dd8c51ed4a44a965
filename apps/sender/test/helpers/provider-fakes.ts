import { configSchema, loadConfig, type Config } from '@sms-verify/shared'
import { FAKE_ALIYUN, FAKE_RONGLIAN, FAKE_TENCENT } from '@sms-verify/testing'

/** A sender config with the variables of every provider's fake (endpoints given by each test). */
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
    ALIYUN_ACCESS_KEY_ID: FAKE_ALIYUN.accessKeyId,
    ALIYUN_ACCESS_KEY_SECRET: FAKE_ALIYUN.accessKeySecret,
    ALIYUN_SMS_SIGN_NAME: FAKE_ALIYUN.signName,
    ALIYUN_SMS_TEMPLATES: ALIYUN_TEMPLATES,
    ...env,
  }) as Config
}

export const signal = (ms = 5000) => AbortSignal.timeout(ms)

export const ALIYUN_TEMPLATES = 'register=SMS_100001,login=SMS_100002,reset_password=SMS_100003'
