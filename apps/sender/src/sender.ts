import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { allPartitions, clusterMode, keys, partitionCount, sealKeyFrom, type Config, type Partition, type RedisClient } from '@sms-verify/shared'
import type { Logger } from 'pino'
import { Completions } from './completions.js'
import { until } from './deadline.js'
import { Failover } from './failover.js'
import { Jobs } from './jobs.js'
import { Leases } from './leases.js'
import { Maintenance } from './maintenance.js'
import type { SenderMetrics, StreamSample } from './metrics.js'
import { SenderPause } from './pause.js'
import type { Provider } from './provider.js'
import { failoverOptions } from './providers/index.js'
import { Reader } from './reader.js'
import { defineSenderScripts, type FinishItem } from './scripts.js'
import { SendWindow, type Entry, type Leased, type ToLease } from './window.js'

export interface SenderOptions {
  readonly config: Config
  /** commands and scripts; its offline queue lets an outage wait and resume */
  readonly redis: RedisClient
  /**
   * Standalone: the connection for blocking reads (one XREADGROUP names every
   * stream). When omitted, a duplicate of `redis` made at start and closed by
   * close(). Cluster mode ignores it: every partition gets its own duplicate.
   */
  readonly blockingRedis?: RedisClient
  /** a single provider or a failover chain */
  readonly provider: Provider | Failover
  readonly logger: Logger
  readonly metrics?: SenderMetrics
  /** defaults to hostname-pid-random */
  readonly consumer?: string
}

/**
 * Consumes every partition stream through the group `senders`: a sliding window of
 * SENDER_CONCURRENCY jobs, leased and finished in batches per partition, retries through a
 * per-partition retry set, dead letters, and crash recovery with XAUTOCLAIM. See README,
 * "Reliability", for the guarantees. This file only wires the parts and runs the lifecycle:
 *   window.ts       what this process holds, and the counters that size reads and leases
 *   reader.ts       XREADGROUP, blocking or not          leases.ts   lease, renew, hand back
 *   jobs.ts         one provider round and its JobEnd     completions.ts  finish.lua batches
 *   maintenance.ts  groups, promote, claim, trim, forget consumers, samples, their timers
 */
export class Sender {
  readonly consumer: string
  readonly #c: Config
  readonly #log: Logger
  readonly #failover: Failover
  readonly #partitions: Partition[]
  readonly #window: SendWindow
  readonly #reader: Reader
  readonly #leases: Leases
  readonly #jobs: Jobs
  readonly #completions: Completions
  readonly #maintenance: Maintenance
  /** while every provider's circuit is open: no reads, leases or claims (pause.ts) */
  readonly #pause: SenderPause
  readonly #metrics: SenderMetrics | undefined
  #running = false
  #ticking = false
  #closing: Promise<void> | undefined
  /** the shutdown deadline (epoch ms), once close() was called */
  #deadline = Number.POSITIVE_INFINITY

  constructor(options: SenderOptions) {
    const c = this.#c = options.config
    const redis = defineSenderScripts(options.redis)
    const logger = this.#log = options.logger
    const metrics = this.#metrics = options.metrics
    this.consumer = options.consumer ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
    const consumer = this.consumer
    const partitions = this.#partitions = allPartitions(partitionCount(c), clusterMode(c))
    const pk = partitions.map((p) => keys(p))
    const failover = this.#failover = options.provider instanceof Failover ? options.provider : new Failover([options.provider], failoverOptions(c))
    const readBatch = Math.max(8, Math.ceil(c.SENDER_CONCURRENCY / 2))
    const window = this.#window = new SendWindow({ concurrency: c.SENDER_CONCURRENCY, readBatch })
    const take = (reclaimed: boolean) => (entries: Entry[]) => this.#take(entries, reclaimed)
    const paused = () => this.#pause.paused
    this.#maintenance = new Maintenance({ config: c, redis, consumer, partitions, keys: pk, logger, window, paused, take: take(true) })
    this.#reader = new Reader({
      config: c, redis, blockingRedis: options.blockingRedis, consumer, partitions, logger, readBatch, paused, take: take(false),
      room: () => window.roomForRead(), recreateGroups: () => this.#maintenance.recreateGroups(),
    })
    this.#completions = new Completions({
      redis, keys: pk, logger, metrics, deadline: () => this.#deadline,
      written: (p, entries) => { window.finished(entries); this.#maintenance.touched(p.index); this.#afterRelease() },
    })
    this.#jobs = new Jobs({
      config: c, redis, keys: pk, failover, sealKey: sealKeyFrom(c.JOB_SEAL_KEY), logger, metrics, completions: this.#completions,
      retrying: (index) => this.#maintenance.retrying(index), checkPause: () => this.#pump(),
    })
    this.#leases = new Leases({
      config: c, redis, keys: pk, consumer, logger, metrics, window, jobs: this.#jobs, providers: failover.size,
      side: (e, work) => { window.startSide(); this.#settle(e, work) },
      touched: (index) => this.#maintenance.touched(index), afterRelease: () => this.#afterRelease(),
    })
    this.#pause = new SenderPause({
      redis, consumer, logger, allOpen: () => failover.allOpen(),
      handBack: async () => { const count = await this.#leases.handBack(); this.#afterRelease(); return count },
      resumed: () => { this.#pump(); this.#reader.wake() },
    })
    metrics?.setCircuits(() => failover.openCircuits())
  }

  /** Whether every provider's circuit is open, so this sender takes no work (see pause.ts). */
  get paused(): boolean { return this.#pause.paused }

  /** Jobs in the window (leasing or sending) or writing their completion. */
  get inFlight(): number { return this.#window.inFlight }

  /** Creates the groups, then reads until close(). Only main.ts calls this; tests call tick(). */
  async start(): Promise<void> {
    if (this.#running || this.#closing) return
    await this.#maintenance.ensureGroups()
    this.#metrics?.setSampler(() => this.sampleStreams())
    this.#running = true
    this.#maintenance.start()
    this.#reader.start()
    this.#log.info({ consumer: this.consumer, partitions: this.#partitions.length, providers: this.#failover.names }, 'sender started')
  }

  /**
   * One pass without blocking: promote due retries, take over stale entries,
   * read new ones, send them (within the window) and wait for all of them to
   * end. Returns how many entries were taken in.
   */
  async tick(): Promise<number> {
    await this.#maintenance.ensureGroups()
    await this.promote()
    this.#ticking = true
    try {
      let taken = await this.claim()
      taken += await this.#reader.readNow(Math.max(1, this.#window.room()))
      this.#pump()
      await this.#window.whenIdle(false)
      return taken
    } finally {
      this.#ticking = false
    }
  }

  /**
   * Stops reading, hands back entries read but not started, awaits the jobs in
   * the window, closes what it opened. Everything within one deadline:
   * `deadline` (epoch ms), by default SHUTDOWN_TIMEOUT_MS from now. Safe to call twice.
   */
  close(deadline?: number): Promise<void> {
    return (this.#closing ??= this.#shutdown(deadline ?? Date.now() + this.#c.SHUTDOWN_TIMEOUT_MS))
  }

  promote(partitions?: readonly Partition[]): Promise<number> { return this.#maintenance.promote(partitions) }
  claim(): Promise<number> { return this.#maintenance.claim() }
  trim(indexes?: readonly number[]): Promise<number> { return this.#maintenance.trim(indexes) }
  forgetConsumers(minIdleMs?: number): Promise<string[]> { return this.#maintenance.forgetConsumers(minIdleMs) }
  sampleStreams(): Promise<StreamSample[]> { return this.#maintenance.sampleStreams() }

  async #shutdown(deadline: number): Promise<void> {
    this.#deadline = deadline
    this.#running = false
    this.#maintenance.stop()
    const reads = this.#reader.stop(deadline)
    const steps: Array<[string, () => Promise<unknown>]> = [
      ['await the reads', () => reads],
      ['end the pause', () => this.#pause.stop()],
      ['hand back unstarted entries', () => until(this.#leases.handBack().then((count) => {
        if (count > 0) this.#log.info({ count }, 'sender close: entries read but not started handed back for another replica')
      }), deadline)],
      ['await the jobs in flight', () => this.#awaitInFlight(deadline)],
      ['close the blocking connections', async () => this.#reader.close()],
    ]
    for (const [what, step] of steps) {
      try { await step() } catch (err) { this.#log.error({ err }, `sender close: ${what} failed`) }
    }
    this.#log.info({ consumer: this.consumer }, 'sender stopped')
  }

  async #awaitInFlight(deadline: number): Promise<void> {
    if (this.inFlight === 0) return
    if (await until(this.#window.whenIdle(!this.#ticking), deadline) === 'late') {
      this.#log.warn({ inFlight: this.inFlight }, 'sender close: shutdown deadline with sends in flight; their leases keep other replicas from resending')
    }
  }

  /** Entries read or claimed join the window; read while the pause began (a blocked read came back), they go straight back. */
  #take(entries: readonly Entry[], reclaimed: boolean): number {
    const taken = this.#window.take(entries, reclaimed)
    if (taken > 0 && this.#pause.paused) void this.#leases.handBack().then(() => this.#afterRelease(), (err: unknown) =>
      this.#log.warn({ err }, 'handing back entries read at the pause failed; they are claimed once idle'))
    else if (taken > 0) this.#pump()
    return taken
  }

  /** Starts ready jobs in free slots of the window, then leases ahead what the window asks for. */
  #pump(): void {
    if (!this.#running && !this.#ticking) return
    if (this.#pause.check()) return
    const window = this.#window
    const now = Date.now()
    const renew: ToLease[] = []
    // A half-open circuit admits one trial: the jobs behind it wait here, leased, rather than take a round with no call.
    while (window.canStart() && this.#failover.admitsCall()) {
      const next = window.startNext(now, this.#leases.freshMs)
      if (next.kind === 'renew') renew.push(next.item)
      else this.#send(next.job)
    }
    const batch = [...renew, ...window.toLease(renew.length).map((e) => ({ e }))]
    if (batch.length === 0) return
    if (window.fresh === 0) this.#reader.wake() // the read-ahead ran dry: read now
    this.#leases.lease(batch)
  }

  #send(h: Leased): void {
    this.#jobs.send(h).then((end) => {
      if (end.kind === 'accepted') this.#accepted(h, end.item)
      else this.#release(h.e)
    }, (err: unknown) => this.#failed(h.e, err))
  }

  /** Side work (an ack, a dead letter) holds its place in the window until it ends. */
  #settle(e: Entry, work: Promise<unknown>): void {
    work.then(() => this.#release(e), (err: unknown) => this.#failed(e, err))
  }

  /** Leaves the window, still held until its completion is written (no claim hands it out meanwhile). */
  #accepted(h: Leased, item: FinishItem): void {
    this.#window.accepted()
    this.#completions.add(h, item)
    this.#maintenance.touched(h.e.p.index)
    this.#afterRelease()
  }

  #failed(e: Entry, err: unknown): void {
    this.#log.error({ err, entryId: e.id, partition: e.p.index }, 'handling a job failed; it stays pending and will be claimed again')
    this.#release(e)
  }

  #release(e: Entry): void {
    this.#window.release(e)
    this.#maintenance.touched(e.p.index)
    this.#afterRelease()
  }

  /** Something left the window: start or lease what now fits, and read when there is room. */
  #afterRelease(): void {
    this.#pump()
    if (this.#window.room() > 0) this.#reader.wake()
  }
}
