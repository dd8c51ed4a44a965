import { TEST_KEYS } from '@sms-verify/testing'
import type { Redis } from 'ioredis'

export interface Delivery { requestId: string, mobile: string, pid: number, t: number }
export interface Call extends Delivery { n: number, outcome: string }

export const deliveriesIn = async (redis: Redis): Promise<Delivery[]> =>
  (await redis.lrange(TEST_KEYS.deliveries, 0, -1)).map((s) => JSON.parse(s) as Delivery)

export const callsIn = async (redis: Redis): Promise<Call[]> =>
  (await redis.lrange(TEST_KEYS.calls, 0, -1)).map((s) => JSON.parse(s) as Call)
