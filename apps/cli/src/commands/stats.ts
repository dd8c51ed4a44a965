import {
  GROUP, MINUTE_MS, SENT_BUCKET_MS, decodePausedSender, globalKeys, keys, sentBucketOf, type PausedSender, type Partition, type RedisClient,
} from '@sms-verify/shared'
import type { Context } from '../context.js'
import { pairs, table } from '../format.js'

export interface PartitionStats {
  partition: number
  stream: string
  deadStream: string
  /** XLEN: entries in the stream, acked or not (the stream is trimmed, not emptied, by acks) */
  length: number
  /** whether the consumer group `senders` exists on the stream */
  group: boolean
  consumers: number
  /** entries delivered to a sender and not yet acked (XPENDING) */
  pending: number
  /** entries not yet delivered to any sender (XINFO GROUPS lag); null when Redis cannot tell */
  lag: number | null
  entriesRead: number | null
  lastDeliveredId: string | null
  pendingByConsumer: Record<string, number>
  /** XLEN of the dead stream */
  dead: number
  /** jobs a provider accepted in the last minute (the senders' 10 s buckets, the current one included) */
  lastMinute: number
}

export interface Stats {
  at: number
  partitions: PartitionStats[]
  totals: {
    length: number, pending: number, lag: number, lagUnknown: number, dead: number, lastMinute: number,
    consumers: number, pendingByConsumer: Record<string, number>,
  }
  /** senders whose every provider circuit is open: they take no work until `resumeAt` */
  paused: PausedSender[]
}

const isNoKey = (err: unknown) => /no such key|NOGROUP/i.test(String(err))

async function groupInfo(redis: RedisClient, stream: string) {
  try {
    const groups = (await redis.xinfo('GROUPS', stream)) as unknown[]
    const g = groups.map(pairs).find((x) => x.name === GROUP)
    if (!g) return undefined
    const n = (v: unknown) => (v === null || v === undefined ? null : Number(v))
    return { consumers: Number(g.consumers), pending: Number(g.pending), lag: n(g.lag), entriesRead: n(g['entries-read']), lastDeliveredId: String(g['last-delivered-id']) }
  } catch (err) {
    if (isNoKey(err)) return undefined
    throw err
  }
}

async function pendingByConsumer(redis: RedisClient, stream: string): Promise<Record<string, number>> {
  try {
    const [, , , consumers] = (await redis.xpending(stream, GROUP)) as [number, string | null, string | null, Array<[string, string]> | null]
    return Object.fromEntries((consumers ?? []).map(([name, count]) => [name, Number(count)]))
  } catch (err) {
    if (isNoKey(err)) return {}
    throw err
  }
}

/** Sends of the last minute: the senders count accepted jobs per SENT_BUCKET_MS bucket (finish.lua). */
async function sentLastMinute(redis: RedisClient, p: Partition, now: number): Promise<number> {
  const newest = sentBucketOf(now)
  const buckets = Array.from({ length: MINUTE_MS / SENT_BUCKET_MS }, (_, i) => keys(p).sentCounter(newest - i))
  const counts = await redis.mget(...buckets) // one slot: every bucket carries the partition's tag
  return counts.reduce((sum, c) => sum + Number(c ?? 0), 0)
}

/** Consumer names of the group on one stream (XINFO CONSUMERS); none when the stream or group is missing. */
async function consumerNames(redis: RedisClient, stream: string): Promise<string[]> {
  try {
    return ((await redis.xinfo('CONSUMERS', stream, GROUP)) as unknown[]).map((c) => String(pairs(c).name))
  } catch (err) {
    if (isNoKey(err)) return []
    throw err
  }
}

/** The pause records of the group's consumers (each sender writes its own while paused, with a TTL). */
async function pausedSenders(redis: RedisClient, partitions: readonly Partition[]): Promise<PausedSender[]> {
  const names = new Set((await Promise.all(partitions.map((p) => consumerNames(redis, p.stream)))).flat())
  // One GET per consumer: in cluster mode each record is its own slot.
  const records = await Promise.all([...names].sort().map((name) => redis.get(globalKeys.pausedSender(name))))
  return records.flatMap((raw) => {
    const record = raw === null ? undefined : decodePausedSender(raw)
    return record ? [record] : []
  })
}

export async function partitionStats(redis: RedisClient, p: Partition, now: number): Promise<PartitionStats> {
  const [length, group, byConsumer, dead, lastMinute] = await Promise.all([
    redis.xlen(p.stream), groupInfo(redis, p.stream), pendingByConsumer(redis, p.stream),
    redis.xlen(p.deadStream), sentLastMinute(redis, p, now),
  ])
  return {
    partition: p.index, stream: p.stream, deadStream: p.deadStream, length,
    group: group !== undefined, consumers: group?.consumers ?? 0, pending: group?.pending ?? 0,
    lag: group ? group.lag : length, entriesRead: group?.entriesRead ?? null, lastDeliveredId: group?.lastDeliveredId ?? null,
    pendingByConsumer: byConsumer, dead, lastMinute,
  }
}

export async function collectStats(ctx: Context, now = Date.now()): Promise<Stats> {
  const redis = ctx.redis()
  const [partitions, paused] = await Promise.all([
    Promise.all(ctx.partitions.map((p) => partitionStats(redis, p, now))), pausedSenders(redis, ctx.partitions),
  ])
  const totals: Stats['totals'] = { length: 0, pending: 0, lag: 0, lagUnknown: 0, dead: 0, lastMinute: 0, consumers: 0, pendingByConsumer: {} }
  for (const s of partitions) {
    totals.length += s.length
    totals.pending += s.pending
    totals.dead += s.dead
    totals.lastMinute += s.lastMinute
    totals.consumers = Math.max(totals.consumers, s.consumers)
    if (s.lag === null) totals.lagUnknown++
    else totals.lag += s.lag
    for (const [name, n] of Object.entries(s.pendingByConsumer)) totals.pendingByConsumer[name] = (totals.pendingByConsumer[name] ?? 0) + n
  }
  return { at: now, partitions, totals, paused }
}

export async function stats(ctx: Context): Promise<void> {
  const s = await collectStats(ctx)
  if (ctx.json) return ctx.io.out(JSON.stringify(s))
  const lag = (v: number | null) => (v === null ? '?' : v)
  const rows: Array<Array<string | number>> = [['partition', 'stream', 'length', 'lag', 'pending', 'consumers', 'dead', 'sent 60 s']]
  for (const p of s.partitions) rows.push([p.partition, p.stream + (p.group ? '' : ' (no group)'), p.length, lag(p.lag), p.pending, p.consumers, p.dead, p.lastMinute])
  const t = s.totals
  if (s.partitions.length > 1) rows.push(['total', `${s.partitions.length} partitions`, t.length, t.lagUnknown ? `${t.lag}+?` : t.lag, t.pending, t.consumers, t.dead, t.lastMinute])
  ctx.io.out(table(rows))
  const consumers = Object.entries(t.pendingByConsumer)
  ctx.io.out('')
  ctx.io.out(consumers.length === 0 ? 'pending per consumer: none' : table([['consumer', 'pending'], ...consumers.sort((a, b) => b[1] - a[1])]))
  ctx.io.out('')
  const resumesIn = (p: PausedSender) => `${Math.max(0, Math.ceil((p.resumeAt - s.at) / 1000))} s`
  ctx.io.out(s.paused.length === 0 ? 'paused senders: none' : table([['paused sender (every circuit open)', 'providers', 'resumes in'],
    ...s.paused.map((p) => [p.consumer, p.providers.join(','), resumesIn(p)])]))
}
