import { GROUP, SENT_BUCKET_TTL_MS, sentBucketOf, type Partition, type PartitionKeys, type RedisClient } from '@sms-verify/shared'
import type { Logger } from 'pino'
import type { SenderMetrics } from './metrics.js'
import { finishScript, type FinishBatch, type FinishItem } from './scripts.js'
import type { Entry, Leased } from './window.js'

/**
 * Completions: writing finish.lua for sends a provider accepted. Accepted code jobs of one
 * partition are batched (one call for whatever completed within a turn of the event loop, or
 * while the calls on their way were the most allowed), and every call is retried until it
 * lands or the shutdown deadline passes. It owns the
 * per-partition queues; it may not send, lease or retry a job: once a batch is written (or
 * given up) it hands its entries to `written`.
 */
export interface CompletionsOptions {
  readonly redis: RedisClient
  readonly keys: readonly PartitionKeys[]
  readonly logger: Logger
  readonly metrics?: SenderMetrics | undefined
  /** the shutdown deadline (epoch ms); +Infinity until close() */
  readonly deadline: () => number
  /** a batch of partition `p` was written, or given up at the deadline: its entries are no longer held */
  readonly written: (p: Partition, entries: Entry[]) => void
}

/** A job a provider accepted, waiting for its completion in the next batch of its partition. */
interface Accepted { readonly h: Leased, readonly item: FinishItem }
interface Queue { items: Accepted[], scheduled: boolean, calls: number }

/**
 * finish.lua calls on their way per partition. One at a time made the sender wait on each
 * round trip: with a fast provider its event loop sat idle for 30 % of a drain, and four let
 * it drain 10–15 % faster (bench/README.md). Each call is atomic and about its own jobs only,
 * so the order in which they land does not matter.
 */
const CALLS_PER_PARTITION = 4

export class Completions {
  readonly #o: CompletionsOptions
  readonly #queues = new Map<number, Queue>()

  constructor(options: CompletionsOptions) { this.#o = options }

  /** Queues the completion of an accepted job; the batch of its partition is written on the next turn. */
  add(h: Leased, item: FinishItem): void {
    const index = h.e.p.index
    let q = this.#queues.get(index)
    if (!q) this.#queues.set(index, (q = { items: [], scheduled: false, calls: 0 }))
    q.items.push({ h, item })
    this.#schedule(h.e.p, q)
  }

  /** The batch of the partition's sent counter as of `now`; finish.lua counts every sent job there. */
  batch(p: Partition, now: number): FinishBatch {
    const k = this.#o.keys[p.index]!
    return { group: GROUP, now, sentCounter: k.sentCounter(sentBucketOf(now)), sentCounterTtlMs: SENT_BUCKET_TTL_MS }
  }

  /** A batch on the next turn, unless one is due already or the most calls are on their way. */
  #schedule(p: Partition, q: Queue): void {
    if (q.scheduled || q.calls >= CALLS_PER_PARTITION || q.items.length === 0) return
    q.scheduled = true
    setImmediate(() => {
      q.scheduled = false
      void this.#flush(p, q)
    })
  }

  async #flush(p: Partition, q: Queue): Promise<void> {
    const { metrics, logger } = this.#o
    const items = q.items
    if (items.length === 0) return
    q.items = []
    q.calls++
    const now = Date.now()
    if (await this.record(p, finishScript.args(this.batch(p, now), items.map((a) => a.item)), items.length)) {
      for (const { h } of items) {
        metrics?.enqueueToAccepted.observe(Math.max(0, now - h.job.createdAt) / 1000)
        if (logger.isLevelEnabled('debug')) logger.debug({ requestId: h.job.requestId }, 'sms accepted by the provider')
      }
    }
    q.calls--
    // Held until the completion is written: no claim pass hands these entries out again meanwhile.
    this.#o.written(p, items.map((a) => a.h.e))
    this.#schedule(p, q)
  }

  /**
   * finish.lua for messages a provider already accepted. It is idempotent, so it is retried
   * (50 ms doubling to 1 s) through a Redis outage or a failover until it lands: giving up would
   * let the lease lapse and a peer send the message again. Only the shutdown deadline stops it:
   * false then.
   */
  async record(p: Partition, args: Array<string | number>, count: number): Promise<boolean> {
    const log = this.#o.logger
    for (let delay = 50, warned = false; ; delay = Math.min(2 * delay, 1000)) {
      try {
        await this.#o.redis.senderFinish(p.stream, ...args)
        if (warned) log.info({ partition: p.index, count }, 'accepted sends recorded after a retry')
        return true
      } catch (err) {
        if (Date.now() >= this.#o.deadline()) {
          log.error({ err, partition: p.index, count },
            'recording accepted sends failed at shutdown; their leases hold off a resend until they expire, then the entries are claimed again')
          return false
        }
        if (!warned) log.warn({ err, partition: p.index, count }, 'recording accepted sends failed; retrying until Redis takes it')
        warned = true
        await new Promise((resolve) => setTimeout(resolve, delay))
      }
    }
  }
}
