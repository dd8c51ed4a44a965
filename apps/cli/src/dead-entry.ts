import type { DeadLetter, Partition, RedisClient } from '@sms-verify/shared'
import { decodeDeadLetter, maskMobilesIn, recordOf } from '@sms-verify/shared'
import { jobView, type JobView } from './job-view.js'

/**
 * Why a dead letter cannot usefully go back on the stream, if it cannot: the
 * sender never keeps a plaintext code in a dead letter, so a code job is
 * replayable only when sealed (JOB_SEAL_KEY), and an expired code would only
 * be marked expired.
 */
export function unreplayable(letter: DeadLetter, now: number): 'no_code' | 'expired' | undefined {
  const f = recordOf<string>(letter.original)
  if (f.kind !== 'code') return undefined
  if (f.code === undefined && f.sealed === undefined) return 'no_code'
  if (Number(f.expiresAt) <= now) return 'expired'
  return undefined
}

export interface DeadLetterView extends JobView {
  reason: string | null
  /** the last provider error, numbers masked */
  error: string | null
}

/** What the CLI shows of a dead letter; one that does not decode is still listed, with `invalid` saying why. */
export function deadLetterView(partition: number, id: string, flat: readonly string[]): DeadLetterView {
  const view = jobView(partition, id, flat)
  const decoded = decodeDeadLetter(flat)
  if (!decoded.ok) return { ...view, reason: null, error: null, invalid: maskMobilesIn(decoded.reason) }
  return { ...view, reason: decoded.letter.reason, error: maskMobilesIn(decoded.letter.lastError) }
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
