// SENDER_TEST_PROVIDER_MODULE for the cluster process tests: the sender's test provider
// (every call and delivery recorded in TEST_PROVIDER_REDIS_URL, a standalone redis-server
// outside the cluster, so a killed master cannot take the record with it), plus the code of
// each delivered message, so a test can verify what the phone would have received.
import { Redis } from 'ioredis'
import { makeTestProvider } from '@sms-verify/testing/dist'

/** hash requestId -> the code the provider accepted for it */
export const CODES_KEY = 'test:codes'

export function createProvider() {
  const url = process.env.TEST_PROVIDER_REDIS_URL
  if (!url) throw new Error('recording-provider: TEST_PROVIDER_REDIS_URL is required')
  const redis = new Redis(url, { maxRetriesPerRequest: null })
  const inner = makeTestProvider({ redis, latencyMs: Number(process.env.TEST_PROVIDER_LATENCY_MS ?? 0) })
  return {
    ...inner,
    async send(message, signal) {
      const outcome = await inner.send(message, signal)
      if (outcome.kind === 'accepted') await redis.hset(CODES_KEY, message.requestId, message.code)
      return outcome
    },
  }
}
