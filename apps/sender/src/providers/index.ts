import type { Config } from '@sms-verify/shared'
import type { Logger } from 'pino'
import type { FailoverOptions } from '../failover.js'
import type { Provider } from '../provider.js'
import { createAliyunProvider } from './aliyun.js'
import { createConsoleProvider } from './console.js'
import { createRonglianProvider } from './ronglian.js'
import { createTencentProvider } from './tencent.js'

/**
 * The providers of SMS_PROVIDER, in failover order. A provider whose
 * variables are missing throws ConfigError here, so startup fails with one line.
 */
export function createProviders(config: Config, logger: Logger): Provider[] {
  return config.SMS_PROVIDER.map((name) => {
    switch (name) {
      case 'console': return createConsoleProvider(logger)
      case 'tencent': return createTencentProvider(config)
      case 'ronglian': return createRonglianProvider(config)
      case 'aliyun': return createAliyunProvider(config)
    }
  })
}

export function failoverOptions(config: Config): FailoverOptions {
  return {
    timeoutMs: config.PROVIDER_TIMEOUT_MS,
    circuitThreshold: config.SENDER_CIRCUIT_THRESHOLD,
    circuitCooldownMs: config.SENDER_CIRCUIT_COOLDOWN_MS,
  }
}
