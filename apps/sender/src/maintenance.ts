import { GROUP, clusterMode, type Config, type Partition, type PartitionKeys, type RedisClient } from '@sms-verify/shared'
import type { Logger } from 'pino'
import type { StreamSample } from './metrics.js'
import { forgetConsumersScript, promoteScript, trimScript, type PromotePartition } from './scripts.js'
import { claimInterval, errorText, forgetIdleMs, isNoGroup, maintenanceInterval, parseGroups, promoteInterval, TRIM_INTERVAL_MS } from './stream.js'
import { entryOf, type Entry, type SendWindow } from './window.js'

/**
 * Maintenance of the partition streams and their group: creating the group, promoting due
 * retries, taking over stale entries (XAUTOCLAIM), trimming, forgetting gone consumers, stream
 * samples for the metrics, and the timers that run these periodically. It owns the claim
 * cursors and which partitions need a trim or hold retries; it may not lease or send: what it
 * claims goes to `take`, and it reads the window only for how much to claim.
 */
export interface MaintenanceOptions {
  readonly config: Config
  readonly redis: RedisClient
  readonly consumer: string
  readonly partitions: readonly Partition[]
  readonly keys: readonly PartitionKeys[]
  readonly logger: Logger
  readonly window: SendWindow
  readonly paused: () => boolean
  /** entries claimed; returns how many were taken (not already held) */
  readonly take: (entries: Entry[]) => number
}

const PROMOTE_BATCH = 100
/** Cluster mode: how often every partition is checked for due retries (those known to hold some: every promote interval). */
const PROMOTE_SWEEP_MS = 2000

type ClaimReply = [next: string, items: Array<[id: string, fields: string[] | null]>, deleted?: string[]]

export class Maintenance {
  readonly #o: MaintenanceOptions
  /** the reclaimed share of the window: a dead replica's entries never starve behind a backlog */
  readonly #claimShare: number
  #groupsReady: Promise<void> | undefined
  readonly #claimCursors = new Map<number, string>()
  #claimMore = false
  /** partitions where this process acked something since the last trim */
  readonly #dirty = new Set<number>()
  /** partitions known to hold retries (cluster: promoted at the fast pace; the rest swept every PROMOTE_SWEEP_MS) */
  readonly #retrying = new Set<number>()
  #lastSweep = 0
  readonly #timers = new Set<NodeJS.Timeout>()
  #running = false

  constructor(options: MaintenanceOptions) {
    this.#o = options
    this.#claimShare = Math.max(1, Math.ceil(options.config.SENDER_CONCURRENCY / 4))
  }

  /** This process acked something in partition `index`: trim it at the next pass. */
  touched(index: number): void { this.#dirty.add(index) }

  /** Partition `index` holds a retry now: promote it at the fast pace. */
  retrying(index: number): void { this.#retrying.add(index) }

  /** Creates the group on every partition, once (again after recreateGroups()). */
  ensureGroups(): Promise<void> {
    return (this.#groupsReady ??= this.#createGroups().catch((err: unknown) => { this.#groupsReady = undefined; throw err }))
  }

  /** The group is gone (NOGROUP): creates it again. */
  recreateGroups(): Promise<void> {
    this.#groupsReady = undefined
    return this.ensureGroups()
  }

  async #createGroups(): Promise<void> {
    await Promise.all(this.#o.partitions.map(async (p) => {
      try {
        // From 0: jobs queued before any sender existed are consumed too (lease.lua acks stale copies).
        await this.#o.redis.xgroup('CREATE', p.stream, GROUP, '0', 'MKSTREAM')
      } catch (err) {
        if (!errorText(err).startsWith('BUSYGROUP')) throw err
      }
    }))
  }

  /** Starts the periodic tasks: promote, claim, trim, forget consumers. */
  start(): void {
    const c = this.#o.config
    this.#running = true
    this.#every(() => promoteInterval(c), () => this.#promotePass())
    this.#every(() => (this.#claimMore ? 20 : claimInterval(c)), () => this.claim())
    // Idle costs nothing here: only partitions this process acked in are trimmed each second; all of them at the slow pass.
    this.#every(() => TRIM_INTERVAL_MS, () => this.#dirty.size > 0 ? this.trim([...this.#dirty]) : Promise.resolve())
    this.#every(() => maintenanceInterval(c), () => Promise.all([this.trim(), this.forgetConsumers()]))
  }

  /** Stops the periodic tasks (a run in progress ends on its own). */
  stop(): void {
    this.#running = false
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
  }

  /**
   * Moves due retries back into their streams; returns how many moved. All
   * partitions by default. Standalone: one script call for all of them.
   */
  async promote(partitions: readonly Partition[] = this.#o.partitions): Promise<number> {
    const now = Date.now()
    const redis = this.#o.redis
    const of = (p: Partition): PromotePartition => {
      const k = this.#o.keys[p.index]!
      return { retries: k.retries, stream: p.stream, requestPrefix: k.requestPrefix, jobPrefix: k.jobPrefix }
    }
    if (!clusterMode(this.#o.config)) {
      const all = partitions.map(of)
      const keyList = promoteScript.keys(all)
      let total = 0
      for (;;) {
        const { moved, most, waiting } = promoteScript.reply(await redis.senderPromoteAll(keyList.length, ...keyList, ...promoteScript.args(all, now, PROMOTE_BATCH)))
        total += moved
        if (waiting === 0) for (const p of partitions) this.#retrying.delete(p.index)
        if (most < PROMOTE_BATCH) return total
      }
    }
    const moved = await Promise.all(partitions.map(async (p) => {
      const one = [of(p)]
      let total = 0
      for (;;) {
        const { moved: n, waiting } = promoteScript.reply(await redis.senderPromote(...promoteScript.keys(one) as [string, string], ...promoteScript.args(one, now, PROMOTE_BATCH)))
        total += n
        if (waiting > 0) this.#retrying.add(p.index); else this.#retrying.delete(p.index)
        if (n < PROMOTE_BATCH) return total
      }
    }))
    return moved.reduce((a, b) => a + b, 0)
  }

  /**
   * The periodic promote. Cluster mode costs a call per partition, so only
   * partitions known to hold retries go at the fast pace; every partition is
   * swept every PROMOTE_SWEEP_MS (retries a dead replica left behind).
   */
  #promotePass(): Promise<number> {
    const now = Date.now()
    if (!clusterMode(this.#o.config) || now - this.#lastSweep >= PROMOTE_SWEEP_MS) {
      this.#lastSweep = now
      return this.promote()
    }
    if (this.#retrying.size === 0) return Promise.resolve(0)
    return this.promote(this.#o.partitions.filter((p) => this.#retrying.has(p.index)))
  }

  /**
   * XAUTOCLAIM entries idle longer than SENDER_CLAIM_IDLE_MS (a dead
   * replica's, or handed back by one that stopped). Entries this process
   * already holds are skipped, never handled twice. Reclaimed entries go to
   * the front of the buffer and may take a share of the window (a quarter of
   * SENDER_CONCURRENCY) even when new entries fill it, so they never starve
   * behind a backlog. Entries trimmed or deleted meanwhile are acked.
   */
  async claim(): Promise<number> {
    if (this.#o.paused()) return 0
    const { redis, window, logger } = this.#o
    let claimed = 0
    let more = false
    for (const p of this.#o.partitions) {
      const want = Math.max(window.room(), this.#claimShare - window.reclaimed)
      if (want <= 0) { more = true; break }
      let reply: ClaimReply
      try {
        reply = await redis.call('XAUTOCLAIM', p.stream, GROUP, this.#o.consumer, this.#o.config.SENDER_CLAIM_IDLE_MS,
          this.#claimCursors.get(p.index) ?? '0-0', 'COUNT', want) as ClaimReply
      } catch (err) {
        if (isNoGroup(err)) { await this.recreateGroups(); continue }
        throw err
      }
      const [next, items, deleted = []] = reply
      this.#claimCursors.set(p.index, next)
      if (next !== '0-0') more = true
      const gone = [...deleted]
      const live: Entry[] = []
      for (const [id, fields] of items) {
        if (fields === null) gone.push(id)
        else live.push(entryOf(p, id, fields))
      }
      if (gone.length > 0) {
        this.#dirty.add(p.index)
        await redis.xack(p.stream, GROUP, ...gone)
        logger.warn({ partition: p.index, count: gone.length }, 'claimed entries were trimmed or deleted meanwhile; acked')
      }
      const taken = this.#o.take(live)
      if (taken > 0) {
        logger.info({ partition: p.index, count: taken }, 'took over stale pending entries')
        claimed += taken
      }
    }
    this.#claimMore = more
    return claimed
  }

  /** Trims partitions (by index; all by default) below their oldest pending (or undelivered) entry; see trim.lua. */
  async trim(indexes?: readonly number[]): Promise<number> {
    const partitions = indexes ? indexes.map((i) => this.#o.partitions[i]!) : this.#o.partitions
    for (const p of partitions) this.#dirty.delete(p.index)
    const redis = this.#o.redis
    if (!clusterMode(this.#o.config)) {
      const streams = trimScript.keys(partitions.map((p) => p.stream))
      return streams.length === 0 ? 0 : trimScript.reply(await redis.senderTrimAll(streams.length, ...streams, ...trimScript.args(GROUP)))
    }
    const trimmed = await Promise.all(partitions.map(async (p) => trimScript.reply(await redis.senderTrim(p.stream, ...trimScript.args(GROUP)))))
    return trimmed.reduce((a, b) => a + b, 0)
  }

  /** Removes consumers that hold nothing and have not read for long (forgetIdleMs); see forget-consumers.lua. */
  async forgetConsumers(minIdleMs = forgetIdleMs(this.#o.config)): Promise<string[]> {
    const removed = await Promise.all(this.#o.partitions.map(async (p) => {
      const args = forgetConsumersScript.args({ group: GROUP, minIdleMs, self: this.#o.consumer })
      const names = forgetConsumersScript.reply(await this.#o.redis.senderForgetConsumers(p.stream, ...args))
      if (names.length > 0) this.#o.logger.info({ partition: p.index, gone: names }, 'removed idle consumers that held nothing')
      return names
    }))
    return removed.flat()
  }

  /** Length, pending and lag per partition, for the metrics gauges (sampled on scrape). Lag is null when Redis cannot tell. */
  async sampleStreams(): Promise<StreamSample[]> {
    const redis = this.#o.redis
    return Promise.all(this.#o.partitions.map(async (p) => {
      const [length, groupsRaw] = await Promise.all([
        redis.xlen(p.stream),
        redis.call('XINFO', 'GROUPS', p.stream).catch(() => []) as Promise<unknown[]>,
      ])
      const g = parseGroups(groupsRaw).find((x) => x.name === GROUP)
      return { partition: p.index, length, pending: g?.pending ?? 0, lag: g ? g.lag : null }
    }))
  }

  /** Runs `task` `delay()` ms after the previous run ended; never overlapping, ended by stop(). */
  #every(delay: () => number, task: () => Promise<unknown>): void {
    const schedule = () => {
      if (!this.#running) return
      const t = setTimeout(() => {
        this.#timers.delete(t)
        task().catch((err: unknown) => {
          if (this.#running) this.#o.logger.warn({ err }, 'periodic sender task failed; will run again')
        }).finally(schedule)
      }, delay())
      this.#timers.add(t)
    }
    schedule()
  }
}
