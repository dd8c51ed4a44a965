import { configSchema, loadConfig, type Config } from '@sms-verify/shared'
import { fakeProviderEnv, testEnv } from '@sms-verify/testing'

/** A sender config with the variables of every provider's fake (endpoints given by each test). */
export function providerConfig(env: Record<string, string> = {}): Config {
  return loadConfig(configSchema, testEnv({
    ...fakeProviderEnv({ tencent: null, ronglian: null, aliyun: null }),
    PROVIDER_TIMEOUT_MS: '2000',
    ...env,
  }))
}

export const signal = (ms = 5000) => AbortSignal.timeout(ms)
