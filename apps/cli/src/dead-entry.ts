import type { Partition, RedisClient } from '@sms-verify/shared'
import { maskMobilesIn, recordOf } from '@sms-verify/shared'
import { fieldsOf, jobView, type JobView } from './job-view.js'

/**
 * Fields the dead-letter writer adds to the job's own. Replay drops them, so
 * the re-queued entry is the job as the API wrote it.
 */
export const DEAD_LETTER_FIELDS = ['reason', 'error', 'lastError', 'failedAt', 'entryId', 'failReason'] as const

/**
 * Why a dead letter cannot usefully go back on the stream, if it cannot: the
 * sender never keeps a plaintext code in a dead letter, so a code job is
 * replayable only when sealed (JOB_SEAL_KEY), and an expired code would only
 * be marked expired.
 */
export function unreplayable(flat: readonly string[], now: number): 'no_code' | 'expired' | undefined {
  const f = recordOf<string>(flat)
  if (f.kind !== 'code') return undefined
  if (f.code === undefined && f.sealed === undefined) return 'no_code'
  if (Number(f.expiresAt) <= now) return 'expired'
  return undefined
}

export interface DeadLetter extends JobView {
  reason: string | null
  /** the last provider error, numbers masked */
  error: string | null
}

export function deadLetter(partition: number, id: string, flat: readonly string[]): DeadLetter {
  const f = fieldsOf(flat)
  const err = f.error ?? f.lastError
  return {
    ...jobView(partition, id, flat),
    reason: f.reason ?? f.failReason ?? null,
    error: err === undefined ? null : maskMobilesIn(err),
  }
}

export type StreamEntry = [id: string, fields: string[]]

/** Every entry of one partition's dead stream, oldest first, `page` at a time. */
export async function* deadEntries(redis: RedisClient, p: Partition, page = 500): AsyncGenerator<StreamEntry> {
  let start = '-'
  for (;;) {
    const batch = (await redis.xrange(p.deadStream, start, '+', 'COUNT', page)) as StreamEntry[]
    for (const entry of batch) yield entry
    if (batch.length < page) return
    start = `(${batch[batch.length - 1]![0]}`
  }
}

/** Which partition holds dead entry `id` (ids are per stream, so more than one may). */
export async function findDead(redis: RedisClient, partitions: readonly Partition[], id: string): Promise<Array<{ p: Partition, entry: StreamEntry }>> {
  const found = await Promise.all(partitions.map(async (p) => {
    const [entry] = (await redis.xrange(p.deadStream, id, id)) as StreamEntry[]
    return entry ? { p, entry } : undefined
  }))
  return found.filter((x) => x !== undefined)
}
