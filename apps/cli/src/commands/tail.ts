import type { Partition, RedisClient } from '@sms-verify/shared'
import type { Context } from '../context.js'
import { isoTime } from '../format.js'
import { jobView, type JobView } from '../job-view.js'

export interface TailOptions {
  /** stop after this many jobs (for scripts and tests); 0 = until Ctrl-C */
  count: number
  blockMs: number
}

type XReadReply = Array<[stream: string, entries: Array<[id: string, fields: string[]]>]> | null

/** The id after which new entries count as new: the stream's last id now. */
async function lastId(redis: RedisClient, stream: string): Promise<string> {
  const [last] = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>
  return last?.[0] ?? '0-0'
}

export function describe(v: JobView): string {
  const who = v.recipients !== undefined ? `${v.recipients} recipients (${v.mobile ?? '-'} …)` : v.mobile ?? '-'
  const parts = [isoTime(v.at), `p${v.partition}`, v.id, v.kind ?? '?', v.purpose ?? '-', who, `req ${v.requestId ?? '-'}`, `attempts ${v.attempts ?? '-'}`]
  if (v.invalid) parts.push(`INVALID: ${v.invalid}`)
  return parts.join('  ')
}

/**
 * Follows every partition: explicit last ids rather than `$` on each call, so
 * nothing added between two reads is missed. Standalone reads all streams in
 * one XREAD; in cluster mode each stream lives on its own slot, so each gets
 * its own blocking connection.
 */
export async function tail(ctx: Context, opts: TailOptions): Promise<void> {
  const groups: Partition[][] = ctx.cluster ? ctx.partitions.map((p) => [p]) : [[...ctx.partitions]]
  const byStream = new Map(ctx.partitions.map((p) => [p.stream, p]))
  const from = new Map<string, string>()
  const redis = ctx.redis()
  await Promise.all(ctx.partitions.map(async (p) => from.set(p.stream, await lastId(redis, p.stream))))

  let seen = 0
  let stopping = false
  let done!: () => void
  const finished = new Promise<void>((resolve) => { done = resolve })
  const stop = () => {
    if (stopping) return
    stopping = true
    ctx.close()
    done()
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  ctx.io.err(`following ${ctx.partitions.length} stream${ctx.partitions.length > 1 ? 's' : ''} (Ctrl-C to stop)`)

  const follow = async (partitions: Partition[]) => {
    const conn = ctx.blocking()
    while (!stopping) {
      const streams = partitions.map((p) => p.stream)
      let reply: XReadReply
      try {
        reply = (await conn.xread('BLOCK', opts.blockMs, 'STREAMS', ...streams, ...streams.map((s) => from.get(s)!))) as XReadReply
      } catch (err) {
        if (stopping) return
        throw err
      }
      for (const [stream, entries] of reply ?? []) {
        for (const [id, fields] of entries) {
          from.set(stream, id)
          if (stopping) return
          const view = jobView(byStream.get(stream)!.index, id, fields)
          ctx.io.out(ctx.json ? JSON.stringify(view) : describe(view))
          if (opts.count > 0 && ++seen >= opts.count) return stop()
        }
      }
    }
  }
  await Promise.race([finished, Promise.all(groups.map(follow)).then(stop)])
  process.off('SIGINT', stop)
  process.off('SIGTERM', stop)
}
