import {
  JOB_VERSION, bulkJobs, bulkScript, configSchema, defineScripts, encodeJob, keys, loadConfig, newRequestId, partition, partitionIndexOf, seal,
  type Config, type Purpose,
} from '@sms-verify/shared'
import { testEnv, type TestEnv } from '@sms-verify/testing'
import type { Redis } from 'ioredis'

/** The real parser over the shared test environment and a test's overrides. */
export const testConfig = (env: TestEnv): Config => loadConfig(configSchema, testEnv(env))

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

const scripted = new WeakSet<Redis>()

/**
 * Queues a bulk request as the API's route does: bulk.lua writes its record (recipients, jobs)
 * and its jobs of at most 200 numbers, each with its own id (bulkJobs). Returns the request id.
 */
export async function enqueueBulk(redis: Redis, mobiles: string[], o: { partitions?: number, expiresAt?: number } = {}): Promise<string> {
  if (!scripted.has(redis)) { defineScripts(redis); scripted.add(redis) }
  const p = partition(0, o.partitions ?? 1, false)
  const k = keys(p)
  const requestId = newRequestId(0)
  const now = Date.now()
  const expiresAt = o.expiresAt ?? now + 300_000
  const jobs = bulkJobs({ requestId, mobiles, purpose: 'register', params: ['hello'], createdAt: now, expiresAt })
  const result = bulkScript.reply(await redis.smsBulk(
    ...bulkScript.keys({ request: k.request(requestId), stream: k.jobs, idempotency: k.idempotency('-') }),
    ...bulkScript.args({ now, requestId, idempotencyFingerprint: '', idempotencyTtlMs: 0, statusTtlMs: 600_000, recipients: mobiles.length,
      streamCap: 1_000_000, answer: '{}', expiresAt, testResults: {}, jobs: jobs.map(encodeJob) }),
  ))
  if (result.kind !== 'ok') throw new Error(`bulk.lua refused: ${result.kind}`)
  return requestId
}

export async function statusOf(redis: Redis, requestId: string, partitions = 1): Promise<Record<string, string>> {
  const p = partition(Number(requestId.split('-')[0]), partitions, false)
  return redis.hgetall(keys(p).request(requestId))
}
