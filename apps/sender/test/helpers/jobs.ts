import {
  JOB_VERSION, configSchema, encodeJob, keys, loadConfig, newRequestId, partition, partitionIndexOf, seal,
  type Config, type Purpose,
} from '@sms-verify/shared'
import type { Redis } from 'ioredis'

/** A config from test overrides on top of the defaults. */
export function testConfig(env: Record<string, string | number>): Config {
  return loadConfig(configSchema, Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])))
}

/** `+86139` + 8 digits: a valid CN mobile per index. */
export const mobileOf = (i: number): string => `+86139${String(i).padStart(8, '0')}`

export interface EnqueueOptions {
  partitions?: number
  purpose?: Purpose
  code?: string
  sealKey?: Buffer
  ttlMs?: number
  /** when set, the job's expiresAt */
  expiresAt?: number
  withStatus?: boolean
}

/** XADDs a code job as the API would (plus its status record) and returns its request id. */
export async function enqueueCode(redis: Redis, mobile: string, o: EnqueueOptions = {}): Promise<string> {
  const count = o.partitions ?? 1
  const index = partitionIndexOf(mobile, count)
  const p = partition(index, count, false)
  const requestId = newRequestId(index)
  const now = Date.now()
  const expiresAt = o.expiresAt ?? now + (o.ttlMs ?? 300_000)
  const code = o.code ?? '123456'
  const fields = encodeJob({
    v: JOB_VERSION, kind: 'code', requestId, mobile, purpose: o.purpose ?? 'register',
    ...(o.sealKey ? { sealed: seal(o.sealKey, code, requestId) } : { code }),
    createdAt: now, expiresAt, attempts: 0,
  })
  const multi = redis.multi()
  if (o.withStatus !== false) {
    multi.hset(keys(p).request(requestId), 'requestId', requestId, 'kind', 'code', 'mobile', mobile, 'status', 'queued', 'attempts', 0,
      'createdAt', now, 'queuedAt', now, 'updatedAt', now, 'expiresAt', expiresAt)
  }
  multi.xadd(p.stream, '*', ...fields)
  await multi.exec()
  return requestId
}

export async function enqueueBulk(redis: Redis, mobiles: string[], o: { partitions?: number } = {}): Promise<string> {
  const count = o.partitions ?? 1
  const index = 0
  const p = partition(index, count, false)
  const requestId = newRequestId(index)
  const now = Date.now()
  const fields = encodeJob({ v: JOB_VERSION, kind: 'bulk', requestId, mobiles, purpose: 'register', params: ['hello'], createdAt: now, expiresAt: now + 300_000, attempts: 0 })
  await redis.multi()
    .hset(keys(p).request(requestId), 'requestId', requestId, 'kind', 'bulk', 'status', 'queued', 'attempts', 0, 'createdAt', now, 'updatedAt', now)
    .xadd(p.stream, '*', ...fields)
    .exec()
  return requestId
}

export async function statusOf(redis: Redis, requestId: string, partitions = 1): Promise<Record<string, string>> {
  const p = partition(Number(requestId.split('-')[0]), partitions, false)
  return redis.hgetall(keys(p).request(requestId))
}
