import { fileURLToPath } from 'node:url'
import { freePort, runNode, type RunningProcess } from '@sms-verify/testing'
import type { Redis } from 'ioredis'
import { TEST_KEYS } from './test-provider.mjs'

export const testProviderModule = fileURLToPath(new URL('./test-provider.mjs', import.meta.url))

/** A real sender process (the built dist) using the test provider, ready when it logs 'sender started'. */
export async function startSender(redisUrl: string, env: Record<string, string | number> = {}): Promise<RunningProcess> {
  const proc = runNode('apps/sender/dist/main.js', {
    REDIS_URL: redisUrl,
    METRICS_PORT: String(await freePort()),
    SENDER_TEST_PROVIDER_MODULE: testProviderModule,
    LOG_LEVEL: 'info',
    SENDER_BLOCK_MS: '200',
    ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
  })
  await proc.waitForLine((l) => l.msg === 'sender started', 15_000)
  return proc
}

export interface Delivery { requestId: string, mobile: string, pid: number, t: number }
export interface Call extends Delivery { n: number, outcome: string }

export const deliveriesIn = async (redis: Redis): Promise<Delivery[]> =>
  (await redis.lrange(TEST_KEYS.deliveries, 0, -1)).map((s) => JSON.parse(s) as Delivery)

export const callsIn = async (redis: Redis): Promise<Call[]> =>
  (await redis.lrange(TEST_KEYS.calls, 0, -1)).map((s) => JSON.parse(s) as Call)
