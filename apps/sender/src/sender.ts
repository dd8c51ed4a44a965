import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import {
  DEAD_LETTER_MAXLEN, GROUP, SENT_BUCKET_TTL_MS, allPartitions, clusterMode, decodeJob, encodeJob, jobIdOf, keys, partitionCount, sealKeyFrom, sentBucketOf, unseal,
  type BulkJob, type CodeJob, type Config, type E164, type Job, type Partition, type PartitionKeys, type RedisClient,
} from '@sms-verify/shared'
import type { Cluster, Redis } from 'ioredis'
import type { Logger } from 'pino'
import { backoffMs } from './backoff.js'
import { Failover } from './failover.js'
import type { SenderMetrics, StreamSample } from './metrics.js'
import type { Provider } from './provider.js'
import { failoverOptions } from './providers/index.js'
import { SenderPause } from './pause.js'
import {
  deadLetterScript, defineSenderScripts, finishScript, jobKeys, leaseScript, promoteScript, retryScript, unleaseScript,
  type FinishItem, type LeaseItem, type PromotePartition,
} from './scripts.js'
import { claimInterval, forgetIdleMs, maintenanceInterval, parseGroups, promoteInterval, TRIM_INTERVAL_MS } from './stream.js'

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

/** A stream entry this process holds: read or claimed, from the buffer until its completion is written. */
interface Entry { readonly p: Partition, readonly id: string, readonly fields: string[] | null, readonly key: string }
/** An entry whose lease this handling holds. */
interface Leased { readonly e: Entry, readonly job: Job, readonly token: string, readonly base: number }
/**
 * Leased ahead of a free slot. `readyAt` (epoch ms): when the lease call answered. A call starting
 * then has the lease a call always had; one that waited longer renews it first.
 */
interface Ready extends Leased { readonly readyAt: number }
/** An entry on its way to lease.lua; `token` when it renews this handling's own lease. */
interface ToLease { readonly e: Entry, readonly token?: string | undefined }
/** A job a provider accepted, waiting for its completion (finish.lua) in the next batch of its partition. */
interface Accepted { readonly h: Leased, readonly item: FinishItem }
/** Blocking reads: standalone one group naming every stream; cluster one per partition, each on its own connection. */
interface ReadGroup {
  readonly partitions: Partition[]
  readonly streams: string[]
  client: RedisClient | undefined
  reading: Promise<void> | undefined
  /** the last read came back full: more is likely waiting */
  hot: boolean
  failures: number
}
type Items = Array<[id: string, fields: string[] | null]>
/** RESP2 answers [[stream, items], …]; RESP3 (ioredis 6's default) a map, flattened to [stream, items, …]. */
type StreamReply = Array<[string, Items]> | Array<string | Items> | null

/** The done marker outlives the code by this much; after that an expired job is never sent anyway. */
const DONE_MARGIN_MS = 60_000
const PROMOTE_BATCH = 100
/** Cluster mode: how often every partition is checked for due retries (those known to hold some: every promote interval). */
const PROMOTE_SWEEP_MS = 2000
/**
 * Entries read but never started are handed back on close with this idle
 * time (about 116 days), so any peer's next XAUTOCLAIM takes them at once,
 * whatever its SENDER_CLAIM_IDLE_MS.
 */
const HANDBACK_IDLE_MS = 10_000_000_000

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err))
const isNoGroup = (err: unknown) => errorText(err).startsWith('NOGROUP')

/**
 * Consumes every partition stream through the group `senders`: a sliding
 * window of SENDER_CONCURRENCY jobs, leased and finished in batches per
 * partition, retries through a per-partition retry set, dead letters, and
 * crash recovery with XAUTOCLAIM. See README, "Reliability", for the
 * guarantees.
 */
export class Sender {
  readonly consumer: string
  readonly #o: SenderOptions
  readonly #c: Config
  readonly #redis: RedisClient
  readonly #partitions: Partition[]
  readonly #keys: PartitionKeys[]
  readonly #byStream: Map<string, Partition>
  readonly #failover: Failover
  readonly #sealKey: Buffer | undefined
  readonly #log: Logger
  readonly #leaseMs: number
  /** the reclaimed share of the window: a dead replica's entries never starve behind a backlog */
  readonly #claimShare: number
  /** lease tokens: unique per handling, also across processes that share a consumer name */
  readonly #tokenPrefix = `${randomBytes(6).toString('base64url')}:`
  #tokenSeq = 0
  readonly #groups: ReadGroup[]
  /** read or claimed, not yet leased; reclaimed ones go first */
  #reclaimed: Entry[] = []
  #fresh: Entry[] = []
  /**
   * Leased ahead, waiting for a slot: a slot that frees starts its next call at once instead
   * of waiting a lease round trip (with a 20 ms provider that wait kept about 7 of 64 slots idle).
   */
  #ready: Ready[] = []
  /** entries whose lease call is on its way, and those calls (close() awaits them before handing back) */
  #leasing = 0
  readonly #leaseCalls = new Set<Promise<void>>()
  /** a ready job that waited longer than this is renewed before its call, so the lease covers the whole round */
  readonly #readyFreshMs: number
  /** entries in the window: calling a provider, or writing a retry or dead letter */
  #active = 0
  /** accepted by a provider, completion (finish.lua) not yet written: out of the window, still held */
  #unfinished = 0
  /** the most one read takes, so reading, leasing and finishing of successive batches overlap */
  readonly #readBatch: number
  /** every entry this process holds (buffered or active), so a claim never hands it out twice */
  readonly #holding = new Set<string>()
  readonly #finishing = new Map<number, { items: Accepted[], flushing: boolean }>()
  readonly #claimCursors = new Map<number, string>()
  /** partitions where this process acked something since the last trim */
  readonly #dirty = new Set<number>()
  /** partitions known to hold retries (cluster: promoted at the fast pace; the rest swept every PROMOTE_SWEEP_MS) */
  readonly #retrying = new Set<number>()
  #lastSweep = 0
  #claimMore = false
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #sleepers = new Set<() => void>()
  readonly #idleWaiters: Array<() => void> = []
  #wakeLoop: (() => void) | undefined
  #running = false
  #ticking = false
  #loop: Promise<void> | undefined
  #closing: Promise<void> | undefined
  /** the shutdown deadline (epoch ms), once close() was called */
  #deadline = Number.POSITIVE_INFINITY
  #groupsReady: Promise<void> | undefined
  /** while every provider's circuit is open: no reads, leases or claims (pause.ts) */
  readonly #pause: SenderPause

  constructor(options: SenderOptions) {
    this.#o = options
    this.#c = options.config
    this.#redis = defineSenderScripts(options.redis)
    this.consumer = options.consumer ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
    this.#partitions = allPartitions(partitionCount(this.#c), clusterMode(this.#c))
    this.#keys = this.#partitions.map((p) => keys(p))
    this.#byStream = new Map(this.#partitions.map((p) => [p.stream, p]))
    this.#failover = options.provider instanceof Failover ? options.provider : new Failover([options.provider], failoverOptions(this.#c))
    this.#sealKey = sealKeyFrom(this.#c.JOB_SEAL_KEY)
    this.#log = options.logger
    // Covers every call one round may make, plus the completion script.
    const margin = Math.min(2000, Math.max(200, this.#c.PROVIDER_TIMEOUT_MS))
    this.#leaseMs = this.#c.PROVIDER_TIMEOUT_MS * Math.min(this.#failover.size, this.#c.SEND_MAX_ATTEMPTS) + margin
    this.#readyFreshMs = margin / 4
    this.#claimShare = Math.max(1, Math.ceil(this.#c.SENDER_CONCURRENCY / 4))
    this.#readBatch = Math.max(8, Math.ceil(this.#c.SENDER_CONCURRENCY / 2))
    const group = (partitions: Partition[]): ReadGroup =>
      ({ partitions, streams: partitions.map((p) => p.stream), client: undefined, reading: undefined, hot: true, failures: 0 })
    this.#groups = clusterMode(this.#c) ? this.#partitions.map((p) => group([p])) : [group(this.#partitions)]
    this.#pause = new SenderPause({
      redis: this.#redis, consumer: this.consumer, logger: this.#log, allOpen: () => this.#failover.allOpen(),
      handBack: async () => { const count = await this.#handBack(); this.#afterRelease(); return count },
      resumed: () => { this.#pump(); this.#wake() },
    })
    options.metrics?.setCircuits(() => this.#failover.openCircuits())
  }

  /** Whether every provider's circuit is open, so this sender takes no work (see pause.ts). */
  get paused(): boolean { return this.#pause.paused }

  /** Jobs in the window (leasing or sending) or writing their completion. */
  get inFlight(): number { return this.#active + this.#unfinished }

  /** Creates the groups, then reads until close(). Only main.ts calls this; tests call tick(). */
  async start(): Promise<void> {
    if (this.#running || this.#closing) return
    await this.#ensureGroupsOnce()
    this.#o.metrics?.setSampler(() => this.sampleStreams())
    this.#running = true
    this.#every(() => promoteInterval(this.#c), () => this.#promotePass())
    this.#every(() => (this.#claimMore ? 20 : claimInterval(this.#c)), () => this.claim())
    // Idle costs nothing here: only partitions this process acked in are trimmed each second; all of them at the slow pass.
    this.#every(() => TRIM_INTERVAL_MS, () => this.#dirty.size > 0 ? this.trim([...this.#dirty]) : Promise.resolve())
    this.#every(() => maintenanceInterval(this.#c), () => Promise.all([this.trim(), this.forgetConsumers()]))
    this.#loop = this.#run()
    this.#log.info({ consumer: this.consumer, partitions: this.#partitions.length, providers: this.#failover.names }, 'sender started')
  }

  /**
   * One pass without blocking: promote due retries, take over stale entries,
   * read new ones, send them (within the window) and wait for all of them to
   * end. Returns how many entries were taken in.
   */
  async tick(): Promise<number> {
    await this.#ensureGroupsOnce()
    await this.promote()
    this.#ticking = true
    try {
      let taken = await this.claim()
      taken += await this.#readNow(Math.max(1, this.#room()))
      this.#pump()
      await this.#whenIdle()
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

  async #shutdown(deadline: number): Promise<void> {
    this.#deadline = deadline
    this.#running = false
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
    this.#wake()
    for (const wake of this.#sleepers) wake()
    const steps: Array<[string, () => Promise<unknown>]> = [
      ['await the reads', () => this.#awaitReads(deadline)],
      ['end the pause', () => this.#pause.stop()],
      ['hand back unstarted entries', () => this.#until(this.#handBack().then((count) => {
        if (count > 0) this.#log.info({ count }, 'sender close: entries read but not started handed back for another replica')
      }), deadline)],
      ['await the jobs in flight', () => this.#awaitInFlight(deadline)],
      ['close the blocking connections', async () => { for (const g of this.#groups) if (g.client && g.client !== this.#o.blockingRedis) g.client.disconnect() }],
    ]
    for (const [what, step] of steps) {
      try { await step() } catch (err) { this.#log.error({ err }, `sender close: ${what} failed`) }
    }
    this.#log.info({ consumer: this.consumer }, 'sender stopped')
  }

  /** Blocked reads return within SENDER_BLOCK_MS; past the deadline they are cut off (their entries stay pending for a claim). */
  async #awaitReads(deadline: number): Promise<void> {
    const reads = Promise.all([this.#loop, ...this.#groups.map((g) => g.reading)])
    if (await this.#until(reads, deadline - 100) === 'late') {
      this.#log.warn('sender close: a blocked read outlived the deadline; cut off')
      for (const g of this.#groups) if (g.client && g.client !== this.#o.blockingRedis) g.client.disconnect()
    }
  }

  /**
   * Hands back what this process holds and has not started (close, pause): leases taken ahead
   * are given back, and entries go back with XCLAIM and a huge IDLE, so a peer's next XAUTOCLAIM
   * takes them without waiting SENDER_CLAIM_IDLE_MS. Returns how many entries went back.
   */
  async #handBack(): Promise<number> {
    await Promise.all(this.#leaseCalls) // what they lease joins #ready, handed back below
    const ready = this.#ready.splice(0)
    await this.#unlease(ready)
    const entries = [...this.#reclaimed.splice(0), ...this.#fresh.splice(0), ...ready.map((h) => h.e)]
    if (entries.length === 0) return 0
    for (const e of entries) this.#holding.delete(e.key)
    await Promise.all([...byPartition(entries, (e) => e)].map(([p, list]) =>
      this.#redis.call('XCLAIM', p.stream, GROUP, this.consumer, 0, ...list.map((e) => e.id), 'IDLE', HANDBACK_IDLE_MS, 'JUSTID')))
    return entries.length
  }

  /** Gives back the leases of ready jobs that never started (unlease.lua), one call per partition. */
  async #unlease(ready: Ready[]): Promise<void> {
    await Promise.all([...byPartition(ready, (h) => h.e)].map(async ([p, list]) => {
      const k = this.#keys[p.index]!
      try {
        await this.#redis.senderUnlease(p.stream, ...unleaseScript.args(list.map((h) => ({ keys: jobKeys(k, h.job), entryId: h.e.id, token: h.token, base: h.base }))))
      } catch (err) {
        this.#log.warn({ err, partition: p.index, count: list.length }, 'giving back leases taken ahead failed; a peer takes those entries once the leases expire')
      }
    }))
  }

  async #awaitInFlight(deadline: number): Promise<void> {
    if (this.inFlight === 0) return
    if (await this.#until(this.#whenIdle(), deadline) === 'late') {
      this.#log.warn({ inFlight: this.inFlight }, 'sender close: shutdown deadline with sends in flight; their leases keep other replicas from resending')
    }
  }

  async #until(p: Promise<unknown>, deadline: number): Promise<'done' | 'late'> {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), Math.max(0, deadline - Date.now())) })
    try {
      return await Promise.race([p.then(() => 'done' as const), late])
    } finally {
      clearTimeout(timer)
    }
  }

  // ---- reading ----------------------------------------------------------------

  /**
   * Keeps one blocking XREADGROUP outstanding per read group while the window
   * has room. A read returns at once when entries wait, else after
   * SENDER_BLOCK_MS; nothing polls.
   */
  async #run(): Promise<void> {
    while (this.#running) {
      for (const g of this.#pause.paused ? [] : this.#groups) {
        const room = this.#room()
        // While the read-ahead still holds entries, wait for room for a worthwhile batch: many tiny reads cost more than they bring.
        if (room <= 0 || (room < this.#readBatch / 2 && this.#reclaimed.length + this.#fresh.length + this.#ready.length > 0)) break
        if (!g.reading) g.reading = this.#read(g, Math.min(this.#readBatch, g.hot ? room : Math.ceil(room / this.#groups.length)))
      }
      await new Promise<void>((resolve) => { this.#wakeLoop = resolve })
    }
  }

  #wake(): void {
    const wake = this.#wakeLoop
    if (wake) { this.#wakeLoop = undefined; wake() }
  }

  /**
   * Room for new reads: the window plus a read-ahead of one read batch, less
   * what is active or buffered; so a slot that frees up is refilled without
   * waiting for a read. Accepted jobs whose completion is still being written
   * are outside the window (no send in flight), but more than a window of
   * them holds reading back. Read-ahead entries are handed back on close.
   */
  #room(): number {
    const backlog = this.#unfinished > this.#c.SENDER_CONCURRENCY ? this.#unfinished - this.#c.SENDER_CONCURRENCY : 0
    return this.#c.SENDER_CONCURRENCY + this.#readBatch - this.#active - this.#ready.length - this.#leasing
      - this.#reclaimed.length - this.#fresh.length - backlog
  }

  async #read(g: ReadGroup, count: number): Promise<void> {
    try {
      const reply = await this.#blockingClient(g).call('XREADGROUP', 'GROUP', GROUP, this.consumer, 'COUNT', count,
        'BLOCK', this.#c.SENDER_BLOCK_MS, 'STREAMS', ...g.streams, ...g.streams.map(() => '>')) as StreamReply
      const entries = this.#entries(reply)
      g.hot = entries.length >= count
      g.failures = 0
      if (entries.length > 0) this.#take(entries, false)
    } catch (err) {
      if (this.#running) await this.#readFailed(g, err)
    } finally {
      g.reading = undefined
      this.#wake()
    }
  }

  async #readFailed(g: ReadGroup, err: unknown): Promise<void> {
    if (isNoGroup(err)) {
      this.#log.warn({ err }, 'consumer group missing (Redis lost its data?): recreating it')
      this.#groupsReady = undefined
      await this.#ensureGroupsOnce().catch((e: unknown) => this.#log.error({ err: e }, 'could not recreate the consumer group'))
    } else {
      g.failures++
      if (g.failures === 1 || g.failures % 50 === 0) this.#log.error({ err, failures: g.failures }, 'reading the stream failed; retrying')
    }
    await this.#sleep(Math.min(100 * Math.max(1, g.failures), 1000))
  }

  /** A read without BLOCK on the command connection (tick()); cluster reads of all partitions are independent. */
  async #readNow(room: number): Promise<number> {
    if (this.#pause.paused) return 0
    const results = await Promise.allSettled(this.#groups.map(async (g) => {
      const count = Math.max(1, Math.ceil(room / this.#groups.length))
      const reply = await this.#redis.call('XREADGROUP', 'GROUP', GROUP, this.consumer, 'COUNT', count,
        'STREAMS', ...g.streams, ...g.streams.map(() => '>')) as StreamReply
      return this.#take(this.#entries(reply), false)
    }))
    let taken = 0
    for (const r of results) {
      if (r.status === 'fulfilled') taken += r.value
      else this.#log.warn({ err: r.reason }, 'reading a partition failed')
    }
    return taken
  }

  #entries(reply: StreamReply): Entry[] {
    const out: Entry[] = []
    if (!reply) return out
    const pairs: Array<[string, Items]> = typeof reply[0] === 'string'
      ? Array.from({ length: reply.length / 2 }, (_, i) => [reply[2 * i] as string, reply[2 * i + 1] as Items])
      : reply as Array<[string, Items]>
    for (const [stream, items] of pairs) {
      const p = this.#byStream.get(stream)
      if (p) for (const [id, fields] of items) out.push({ p, id, fields, key: `${p.index}/${id}` })
    }
    return out
  }

  #blockingClient(g: ReadGroup): RedisClient {
    if (!g.client) {
      if (this.#o.blockingRedis && this.#groups.length === 1) {
        g.client = this.#o.blockingRedis
      } else {
        // A dedicated connection per group: blocked reads never wait behind each other or behind commands.
        const client = clusterMode(this.#c)
          // No periodic slot refresh per read connection (each opens a connection for CLUSTER SLOTS):
          // a moved slot or a lost master still triggers one, and the command client refreshes anyway.
          ? (this.#redis as Cluster).duplicate([], { enableAutoPipelining: false, slotsRefreshInterval: 0 })
          : (this.#redis as Redis).duplicate({ enableAutoPipelining: false })
        let down = false
        client.on('error', (err: Error) => { if (!down && this.#running) this.#log.warn({ err }, 'blocking read connection error; reconnecting'); down = true })
        client.on('ready', () => { down = false })
        g.client = client
      }
    }
    return g.client
  }

  // ---- the window ---------------------------------------------------------------

  /** Takes entries into the buffer, skipping those this process already holds. Returns how many it took. */
  #take(entries: Entry[], reclaimed: boolean): number {
    let taken = 0
    const into = reclaimed ? this.#reclaimed : this.#fresh
    for (const e of entries) {
      if (this.#holding.has(e.key)) continue
      this.#holding.add(e.key)
      into.push(e)
      taken++
    }
    // Read while the pause began (a blocked read came back): straight back to the peers.
    if (taken > 0 && this.#pause.paused) void this.#handBack().then(() => this.#afterRelease(), (err: unknown) =>
      this.#log.warn({ err }, 'handing back entries read at the pause failed; they are claimed once idle'))
    else if (taken > 0) this.#pump()
    return taken
  }

  /**
   * Starts ready jobs in free slots of the window, then leases ahead (reclaimed entries first,
   * one lease call per partition) enough for every free slot plus a read batch in waiting.
   */
  #pump(): void {
    if (!this.#running && !this.#ticking) return
    if (this.#pause.check()) return
    const now = Date.now()
    const renew: ToLease[] = []
    // A half-open circuit admits one trial: the jobs behind it wait here, leased, rather than take a round with no call.
    while (this.#active < this.#c.SENDER_CONCURRENCY && this.#ready.length > 0 && this.#failover.admitsCall()) {
      const h = this.#ready.shift()!
      if (now - h.readyAt > this.#readyFreshMs) { renew.push({ e: h.e, token: h.token }); continue }
      this.#active++
      this.#settle(h.e, h.job.kind === 'code' ? this.#sendCode(h) : this.#sendBulk(h))
    }
    const free = this.#c.SENDER_CONCURRENCY - this.#active
    const want = free + this.#readBatch - this.#ready.length - this.#leasing - renew.length
    // While slots would otherwise wait, lease at once; while ahead, only in worthwhile batches (a lease call per freed slot costs more than it brings).
    const waiting = free > this.#ready.length + this.#leasing
    const batch: ToLease[] = renew
    if (!waiting && want < this.#readBatch / 2 && renew.length === 0) return
    if (want > 0 && this.#reclaimed.length > 0) for (const e of this.#reclaimed.splice(0, want)) batch.push({ e })
    const more = want - (batch.length - renew.length)
    if (more > 0 && this.#fresh.length > 0) for (const e of this.#fresh.splice(0, more)) batch.push({ e })
    if (batch.length === 0) return
    this.#leasing += batch.length
    if (this.#fresh.length === 0) this.#wake() // the read-ahead ran dry: read now
    if (this.#partitions.length === 1) {
      this.#leaseAhead(this.#partitions[0]!, batch)
      return
    }
    for (const [p, items] of byPartition(batch, (item) => item.e)) this.#leaseAhead(p, items)
  }

  #leaseAhead(p: Partition, items: ToLease[]): void {
    const call: Promise<void> = this.#lease(p, items).finally(() => this.#leaseCalls.delete(call))
    this.#leaseCalls.add(call)
  }

  /**
   * A started entry leaves the window: its completion is written, it was
   * left pending for a claim, or (`stillHeld`) a provider accepted it and
   * its completion is on its way (#flush lets go of it).
   */
  #release(e: Entry, stillHeld = false): void {
    this.#active--
    this.#dirty.add(e.p.index)
    if (!stillHeld) this.#holding.delete(e.key)
    this.#afterRelease()
  }

  #afterRelease(): void {
    this.#pump()
    if (this.#room() > 0) this.#wake()
    if (this.#idleWaiters.length > 0 && this.#active + this.#unfinished === 0 && this.#buffered() === 0) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve()
    }
  }

  /** Entries this process holds that have not started: read, being leased, or leased ahead. */
  #buffered(): number {
    return this.#reclaimed.length + this.#fresh.length + this.#leasing + this.#ready.length
  }

  #whenIdle(): Promise<void> {
    if (this.#active + this.#unfinished === 0 && (this.#buffered() === 0 || (!this.#running && !this.#ticking))) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /**
   * One lease call for a batch of one partition. Leased jobs join #ready and
   * start as slots free; the rest are acked, dead-lettered or left pending
   * here. Never rejects.
   */
  async #lease(p: Partition, items: ToLease[]): Promise<void> {
    const k = this.#keys[p.index]!
    const leasing: Array<{ e: Entry, job: Job, token: string }> = []
    const calls: LeaseItem[] = []
    for (const { e, token: renewing } of items) {
      if (e.fields === null) {
        this.#startSide(e, this.#redis.xack(p.stream, GROUP, e.id))
        continue
      }
      const decoded = decodeJob(e.fields)
      if (!decoded.ok) {
        this.#startSide(e, this.#deadLetter(e, undefined, 'malformed', decoded.reason, 0, ''))
        continue
      }
      const job = decoded.job
      const token = renewing ?? this.#tokenPrefix + String(++this.#tokenSeq)
      leasing.push({ e, job, token })
      calls.push({ keys: jobKeys(k, job), entryId: e.id, token, attempts: job.attempts, expiresAt: job.expiresAt })
    }
    if (leasing.length === 0) return
    let reply: ReturnType<typeof leaseScript.reply>
    try {
      const batch = { group: GROUP, now: Date.now(), leaseMs: this.#leaseMs, maxAttempts: this.#c.SEND_MAX_ATTEMPTS }
      reply = leaseScript.reply(await this.#redis.senderLease(p.stream, ...leaseScript.args(batch, calls)))
    } catch (err) {
      this.#log.error({ err, partition: p.index, count: leasing.length }, 'leasing jobs failed; they stay pending and will be claimed again')
      for (const { e } of leasing) this.#letGo(e)
      this.#afterRelease()
      return
    }
    const readyAt = Date.now()
    for (let i = 0; i < leasing.length; i++) {
      const { e, job, token } = leasing[i]!
      const { verdict, base } = reply[i]!
      switch (verdict) {
        case 'leased':
          this.#leasing--
          this.#ready.push({ e, job, token, base, readyAt })
          break
        case 'exhausted': {
          // A bulk job's numbers still due end here too: each reads failed, none is lost.
          const due = job.kind === 'bulk' ? job.mobiles : []
          const results = due.length > 0 ? JSON.stringify(Object.fromEntries(due.map((m) => [m, { status: 'failed', reason: 'attempts_exhausted', error: 'no attempts left' }]))) : ''
          const mobiles = job.kind === 'bulk' ? [...job.failedBefore ?? [], ...due] : undefined
          this.#startSide(e, this.#deadLetter(e, job, 'attempts_exhausted', 'no attempts left', base, token, 0, results, mobiles))
          break
        }
        case 'expired':
          this.#o.metrics?.expired.inc()
          this.#log.info({ requestId: job.requestId }, 'job expired before it could be sent; not sent')
          this.#letGo(e)
          break
        case 'busy':
          // Another handling holds the lease (its call may still be in flight): the entry stays pending and is claimed again later.
          this.#log.info({ requestId: job.requestId }, 'request is leased by another send; left pending')
          this.#letGo(e)
          break
        default:
          if (verdict === 'stale') this.#log.info({ requestId: job.requestId, entryId: e.id }, 'stale copy of a job that moved on; acked without sending')
          else if (verdict === 'done') this.#log.debug({ requestId: job.requestId }, 'request already ended; entry acked without sending')
          this.#letGo(e)
      }
    }
    this.#afterRelease()
  }

  /** A leasing entry that will not be sent here: acked by the lease call, or left pending for a claim. */
  #letGo(e: Entry): void {
    this.#leasing--
    this.#dirty.add(e.p.index)
    this.#holding.delete(e.key)
  }

  /** A leasing entry whose handling is a Redis write (an ack, a dead letter): it takes a place in the window until that ends. */
  #startSide(e: Entry, work: Promise<unknown>): void {
    this.#leasing--
    this.#active++
    this.#settle(e, work)
  }

  /** Releases `e` when `work` ends (true: accepted, its completion queued); an error leaves the entry pending for a later claim. */
  #settle(e: Entry, work: Promise<unknown>): void {
    work.then((queued) => this.#release(e, queued === true), (err: unknown) => {
      this.#log.error({ err, entryId: e.id, partition: e.p.index }, 'handling a job failed; it stays pending and will be claimed again')
      this.#release(e)
    })
  }

  // ---- one job --------------------------------------------------------------------

  /** Resolves true when the provider accepted and the completion is queued for #flush. */
  async #sendCode(h: Leased): Promise<boolean | void> {
    const job = h.job as CodeJob
    let code = job.code
    if (code === undefined) {
      try {
        if (job.sealed === undefined) throw new Error('the job carries no code')
        if (!this.#sealKey) throw new Error('the code is sealed and JOB_SEAL_KEY is not set')
        code = unseal(this.#sealKey, job.sealed, job.requestId)
      } catch (err) {
        return this.#deadLetter(h.e, job, 'unseal_failed', errorText(err), h.base, h.token)
      }
    }
    const minutesValid = Math.max(1, Math.round((job.expiresAt - job.createdAt) / 60_000))
    const maxCalls = this.#c.SEND_MAX_ATTEMPTS - h.base
    const round = await this.#failover.send({ requestId: job.requestId, mobile: job.mobile as E164, purpose: job.purpose, code, minutesValid }, maxCalls)
    const metrics = this.#o.metrics
    if (metrics) for (const t of round.tried) metrics.sends.inc({ provider: t.provider, outcome: t.kind })
    const attempts = h.base + round.calls
    const outcome = round.outcome
    switch (outcome.kind) {
      case 'accepted': {
        // The message id → request mapping only where a receipt can come back to look it up.
        const receipts = this.#failover.reportsReceipts(outcome.provider)
        const k = this.#keys[h.e.p.index]!
        const now = Date.now()
        this.#finishLater({ h, item: {
          keys: jobKeys(k, job), serial: receipts ? k.serial(outcome.provider, outcome.messageId) : '', entryId: h.e.id, status: 'sent',
          doneMs: this.#doneMs(job, now), serialMs: receipts ? this.#serialMs() : 0, requestId: job.requestId, results: '', attempts,
          fields: { provider: outcome.provider, messageId: outcome.messageId, ...(outcome.fee === undefined ? {} : { fee: outcome.fee }) },
        } })
        return true
      }
      case 'permanent': return this.#deadLetter(h.e, job, 'permanent', outcome.error, attempts, h.token)
      case 'carrier_limit': return this.#deadLetter(h.e, job, 'carrier_limit', outcome.error, attempts, h.token, Math.max(1, outcome.blockedUntil - Date.now()))
      case 'transient': {
        if (round.calls === 0) return this.#putBack(h, job, outcome.error, '')
        if (attempts >= this.#c.SEND_MAX_ATTEMPTS) return this.#deadLetter(h.e, job, 'attempts_exhausted', outcome.error, attempts, h.token)
        const timedOut = round.tried.some((t) => t.kind === 'transient' && t.timeout === true)
        return this.#retry(h, { ...job, attempts }, outcome.error, '', timedOut)
      }
    }
  }

  /**
   * Accepted jobs of one partition are finished together: one finish.lua call
   * for whatever completed while the previous call was on its way.
   */
  #finishLater(a: Accepted): void {
    this.#unfinished++
    const index = a.h.e.p.index
    let q = this.#finishing.get(index)
    if (!q) this.#finishing.set(index, (q = { items: [], flushing: false }))
    q.items.push(a)
    if (!q.flushing) {
      q.flushing = true
      setImmediate(() => void this.#flush(a.h.e.p, q))
    }
  }

  async #flush(p: Partition, q: { items: Accepted[], flushing: boolean }): Promise<void> {
    const k = this.#keys[p.index]!
    while (q.items.length > 0) {
      const items = q.items
      q.items = []
      const now = Date.now()
      const batch = { group: GROUP, now, sentCounter: k.sentCounter(sentBucketOf(now)), sentCounterTtlMs: SENT_BUCKET_TTL_MS }
      if (await this.#recordAccepted(p, finishScript.args(batch, items.map((a) => a.item)), items.length)) {
        const metrics = this.#o.metrics
        for (const { h } of items) {
          metrics?.enqueueToAccepted.observe(Math.max(0, now - h.job.createdAt) / 1000)
          if (this.#log.isLevelEnabled('debug')) this.#log.debug({ requestId: h.job.requestId }, 'sms accepted by the provider')
        }
      }
      // Held until the completion is written: no claim pass hands these entries out again meanwhile.
      for (const a of items) this.#holding.delete(a.h.e.key)
      this.#dirty.add(p.index)
      this.#unfinished -= items.length
      this.#afterRelease()
    }
    q.flushing = false
  }

  /**
   * finish.lua for messages a provider already accepted. It is idempotent, so it is retried
   * (50 ms doubling to 1 s) through a Redis outage or a failover until it lands: giving up would
   * let the lease lapse and a peer send the message again. Only a shutdown deadline stops it.
   */
  async #recordAccepted(p: Partition, args: Array<string | number>, count: number): Promise<boolean> {
    for (let delay = 50, warned = false; ; delay = Math.min(2 * delay, 1000)) {
      try {
        await this.#redis.senderFinish(p.stream, ...args)
        if (warned) this.#log.info({ partition: p.index, count }, 'accepted sends recorded after a retry')
        return true
      } catch (err) {
        if (this.#closing !== undefined && Date.now() >= this.#deadline) {
          this.#log.error({ err, partition: p.index, count },
            'recording accepted sends failed at shutdown; their leases hold off a resend until they expire, then the entries are claimed again')
          return false
        }
        if (!warned) this.#log.warn({ err, partition: p.index, count }, 'recording accepted sends failed; retrying until Redis takes it')
        warned = true
        await new Promise((resolve) => setTimeout(resolve, delay))
      }
    }
  }

  /**
   * One round of one bulk job: a part of its request, with its own identity, lease and record.
   * Numbers that failed transiently go back as this same job with only those numbers; the job
   * ends when none is left: finished when any of its numbers went out (this round or an earlier
   * one), else dead-lettered with its numbers. Its request counts what each of its jobs did.
   */
  async #sendBulk(h: Leased): Promise<void> {
    const job = h.job as BulkJob
    const maxCalls = this.#c.SEND_MAX_ATTEMPTS - h.base
    const round = await this.#failover.sendBulk({
      requestId: job.requestId, mobiles: job.mobiles as E164[], params: job.params,
      ...(job.purpose ? { purpose: job.purpose } : {}), ...(job.templateId ? { templateId: job.templateId } : {}),
    }, maxCalls)
    for (const o of round.outcomes) if (o.provider) this.#o.metrics?.sends.inc({ provider: o.provider, outcome: o.kind })
    if (round.calls === 0) return this.#putBack(h, job, 'every provider circuit is open', '')
    const attempts = h.base + round.calls
    const canRetry = attempts < this.#c.SEND_MAX_ATTEMPTS
    const results: Record<string, { status: string, provider?: string, messageId?: string, reason?: string, error?: string }> = {}
    const retryMobiles: string[] = []
    const failed: string[] = []
    let sent = 0
    let firstFailure: { reason: string, error: string } | undefined
    let timedOut = false
    round.outcomes.forEach((o, i) => {
      const mobile = job.mobiles[i]!
      if (o.kind === 'accepted') {
        // No serial mapping: receipts are looked up in each number's own partition, not the bulk job's,
        // so bulk receipts stay unmatched (counted as unknown) rather than flip the whole bulk record.
        results[mobile] = { status: 'sent', provider: o.provider, messageId: o.messageId }
        sent++
      } else if (o.kind === 'transient' && canRetry) {
        retryMobiles.push(mobile)
        if (o.timeout) timedOut = true
      } else {
        const reason = o.kind === 'transient' ? 'attempts_exhausted' : o.kind
        results[mobile] = { status: 'failed', reason, error: o.error, ...(o.provider ? { provider: o.provider } : {}) }
        failed.push(mobile)
        firstFailure ??= { reason, error: o.error }
      }
    })
    const sentSoFar = (job.sentBefore ?? 0) + sent
    const failedSoFar = [...(job.failedBefore ?? []), ...failed]
    if (retryMobiles.length > 0) {
      const rest: BulkJob = { ...job, mobiles: retryMobiles, attempts, sentBefore: sentSoFar, ...(failedSoFar.length > 0 ? { failedBefore: failedSoFar } : {}) }
      return this.#retry(h, rest, 'transient failures for some numbers', JSON.stringify(results), timedOut)
    }
    if (sentSoFar === 0 && firstFailure) {
      return this.#deadLetter(h.e, job, firstFailure.reason, firstFailure.error, attempts, h.token, 0, JSON.stringify(results), failedSoFar)
    }
    const k = this.#keys[h.e.p.index]!
    const now = Date.now()
    const batch = { group: GROUP, now, sentCounter: k.sentCounter(sentBucketOf(now)), sentCounterTtlMs: SENT_BUCKET_TTL_MS }
    const item: FinishItem = {
      keys: jobKeys(k, job), serial: '', entryId: h.e.id, status: 'sent', doneMs: this.#doneMs(job, now), serialMs: 0,
      requestId: job.requestId, results: JSON.stringify(results), attempts, fields: {},
    }
    const recorded = await this.#recordAccepted(h.e.p, finishScript.args(batch, [item]), 1)
    if (recorded) this.#log.info({ requestId: job.requestId, jobId: jobIdOf(job), recipients: job.mobiles.length, sent, attempts }, 'bulk job finished')
  }

  /**
   * A round that made no call (every circuit open, or a half-open one's trial taken): the job goes
   * back as it was, its attempts unchanged, and not before the first circuit half-opens, so it
   * does not spin through the retry set meanwhile. Counted in sms_jobs_put_back_total.
   */
  async #putBack(h: Leased, job: Job, error: string, results: string): Promise<void> {
    const notBefore = this.#failover.allOpen()?.until ?? 0
    this.#o.metrics?.putBack.inc()
    this.#pump() // pauses this sender if this round found every circuit open
    return this.#retry(h, job, error, results, false, notBefore)
  }

  async #retry(h: Leased, job: Job, error: string, results: string, timedOut: boolean, notBefore = 0): Promise<void> {
    const k = this.#keys[h.e.p.index]!
    const now = Date.now()
    const due = Math.max(notBefore, now + backoffMs(job.attempts, this.#c.SEND_BACKOFF_BASE_MS, this.#c.SEND_BACKOFF_CAP_MS))
    const scheduled = retryScript.reply(await this.#redis.senderRetry(...retryScript.args({
      stream: h.e.p.stream, retries: k.retries, keys: jobKeys(k, job), group: GROUP, entryId: h.e.id, now, due,
      member: JSON.stringify(encodeJob(job)), token: h.token, keepLease: timedOut, results, attempts: job.attempts, error,
    })))
    if (scheduled !== undefined) {
      this.#retrying.add(h.e.p.index)
      if (notBefore > 0) {
        this.#log.info({ requestId: job.requestId, jobId: jobIdOf(job), attempts: job.attempts, inMs: scheduled - now }, 'no provider call (every circuit open); put back until one half-opens')
      } else {
        this.#o.metrics?.retries.inc()
        this.#log.info({ requestId: job.requestId, jobId: jobIdOf(job), attempts: job.attempts, inMs: scheduled - now, error, timedOut }, 'transient failure; retry scheduled')
      }
    } else {
      this.#log.warn({ requestId: job.requestId, jobId: jobIdOf(job) }, 'transient failure, but another handling took the job over meanwhile; not rescheduled')
    }
  }

  async #deadLetter(e: Entry, job: Job | undefined, reason: string, error: string, attempts: number, token: string,
    blockMs = 0, results = '', mobiles?: string[]): Promise<void> {
    const k = this.#keys[e.p.index]!
    const requestId = job?.requestId ?? fieldOf(e.fields, 'requestId') ?? ''
    const mobile = job?.kind === 'code' ? job.mobile : (fieldOf(e.fields, 'mobile') ?? '')
    const now = Date.now()
    const dead: string[] = ['requestId', requestId, 'reason', reason, 'attempts', String(attempts), 'lastError', error,
      'failedAt', String(now), 'entryId', e.id]
    if (mobile) dead.push('mobile', mobile)
    if (mobiles) dead.push('mobiles', mobiles.join(','))
    // The original fields, for a replay; never the plaintext code, nor what a retry carried forward.
    const original = e.fields ?? []
    for (let i = 0; i + 1 < original.length; i += 2) {
      const f = original[i]!
      if (!NOT_REPLAYED.has(f) && !(mobiles && f === 'mobiles')) dead.push(f, original[i + 1]!)
    }
    // A malformed entry has no job: it goes by its request id, like a code job.
    const keys = job ? jobKeys(k, job) : { lease: k.lease(requestId), request: k.request(requestId), job: k.request(requestId) }
    const done = deadLetterScript.reply(await this.#redis.senderDeadLetter(...deadLetterScript.args({
      stream: e.p.stream, dead: k.dead, keys, carrierBlock: k.carrierBlock(mobile as E164), group: GROUP, entryId: e.id, now,
      maxlen: DEAD_LETTER_MAXLEN, token, blockMs, reason, error, attempts, results, entry: dead,
    })))
    if (done) {
      this.#o.metrics?.deadLetters.inc({ reason })
      this.#log.warn({ requestId, mobile: mobile || undefined, reason, error, attempts }, 'job dead-lettered')
    } else {
      this.#log.warn({ requestId, reason }, 'job failed, but another handling took it over meanwhile; not dead-lettered')
    }
  }

  #doneMs(job: Job, now: number): number {
    return Math.max(0, job.expiresAt - now) + DONE_MARGIN_MS
  }

  #serialMs(): number {
    return (this.#c.CODE_TTL_SECONDS + this.#c.STATUS_TTL_SECONDS) * 1000
  }

  // ---- groups, retries, recovery, trimming ---------------------------------------

  #ensureGroupsOnce(): Promise<void> {
    return (this.#groupsReady ??= this.#ensureGroups().catch((err: unknown) => { this.#groupsReady = undefined; throw err }))
  }

  async #ensureGroups(): Promise<void> {
    await Promise.all(this.#partitions.map(async (p) => {
      try {
        // From 0: jobs queued before any sender existed are consumed too (lease.lua acks stale copies).
        await this.#redis.xgroup('CREATE', p.stream, GROUP, '0', 'MKSTREAM')
      } catch (err) {
        if (!errorText(err).startsWith('BUSYGROUP')) throw err
      }
    }))
  }

  /**
   * Moves due retries back into their streams; returns how many moved. All
   * partitions by default. Standalone: one script call for all of them.
   */
  async promote(partitions: readonly Partition[] = this.#partitions): Promise<number> {
    const now = Date.now()
    const of = (p: Partition): PromotePartition => {
      const k = this.#keys[p.index]!
      return { retries: k.retries, stream: p.stream, requestPrefix: k.requestPrefix, jobPrefix: k.jobPrefix }
    }
    if (!clusterMode(this.#c)) {
      const all = partitions.map(of)
      const keyList = promoteScript.keys(all)
      let total = 0
      for (;;) {
        const { moved, most, waiting } = promoteScript.reply(await this.#redis.senderPromoteAll(keyList.length, ...keyList, ...promoteScript.args(all, now, PROMOTE_BATCH)))
        total += moved
        if (waiting === 0) for (const p of partitions) this.#retrying.delete(p.index)
        if (most < PROMOTE_BATCH) return total
      }
    }
    const moved = await Promise.all(partitions.map(async (p) => {
      const one = [of(p)]
      let total = 0
      for (;;) {
        const { moved: n, waiting } = promoteScript.reply(await this.#redis.senderPromote(...promoteScript.keys(one) as [string, string], ...promoteScript.args(one, now, PROMOTE_BATCH)))
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
    if (!clusterMode(this.#c) || now - this.#lastSweep >= PROMOTE_SWEEP_MS) {
      this.#lastSweep = now
      return this.promote()
    }
    if (this.#retrying.size === 0) return Promise.resolve(0)
    return this.promote(this.#partitions.filter((p) => this.#retrying.has(p.index)))
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
    if (this.#pause.paused) return 0
    let claimed = 0
    let more = false
    for (const p of this.#partitions) {
      const want = Math.max(this.#room(), this.#claimShare - this.#reclaimed.length)
      if (want <= 0) { more = true; break }
      let reply: [string, Items, string[]?]
      try {
        reply = await this.#redis.call('XAUTOCLAIM', p.stream, GROUP, this.consumer, this.#c.SENDER_CLAIM_IDLE_MS,
          this.#claimCursors.get(p.index) ?? '0-0', 'COUNT', want) as typeof reply
      } catch (err) {
        if (isNoGroup(err)) { this.#groupsReady = undefined; await this.#ensureGroupsOnce(); continue }
        throw err
      }
      const [next, items, deleted = []] = reply
      this.#claimCursors.set(p.index, next)
      if (next !== '0-0') more = true
      const gone = [...deleted]
      const live: Entry[] = []
      for (const [id, fields] of items) {
        if (fields === null) gone.push(id)
        else live.push({ p, id, fields, key: `${p.index}/${id}` })
      }
      if (gone.length > 0) {
        this.#dirty.add(p.index)
        await this.#redis.xack(p.stream, GROUP, ...gone)
        this.#log.warn({ partition: p.index, count: gone.length }, 'claimed entries were trimmed or deleted meanwhile; acked')
      }
      const taken = this.#take(live, true)
      if (taken > 0) {
        this.#log.info({ partition: p.index, count: taken }, 'took over stale pending entries')
        claimed += taken
      }
    }
    this.#claimMore = more
    return claimed
  }

  /** Trims partitions (by index; all by default) below their oldest pending (or undelivered) entry; see trim.lua. */
  async trim(indexes?: readonly number[]): Promise<number> {
    const partitions = indexes ? indexes.map((i) => this.#partitions[i]!) : this.#partitions
    for (const p of partitions) this.#dirty.delete(p.index)
    if (!clusterMode(this.#c)) {
      const streams = partitions.map((p) => p.stream)
      return streams.length === 0 ? 0 : this.#redis.senderTrimAll(streams.length, ...streams, GROUP)
    }
    const trimmed = await Promise.all(partitions.map((p) => this.#redis.senderTrim(p.stream, GROUP)))
    return trimmed.reduce((a, b) => a + b, 0)
  }

  /** Removes consumers that hold nothing and have not read for long (forgetIdleMs); see forget-consumers.lua. */
  async forgetConsumers(minIdleMs = forgetIdleMs(this.#c)): Promise<string[]> {
    const removed = await Promise.all(this.#partitions.map(async (p) => {
      const names = await this.#redis.senderForgetConsumers(p.stream, GROUP, minIdleMs, this.consumer)
      if (names.length > 0) this.#log.info({ partition: p.index, gone: names }, 'removed idle consumers that held nothing')
      return names
    }))
    return removed.flat()
  }

  /** Length, pending and lag per partition, for the metrics gauges (sampled on scrape). Lag is null when Redis cannot tell. */
  async sampleStreams(): Promise<StreamSample[]> {
    return Promise.all(this.#partitions.map(async (p) => {
      const [length, groupsRaw] = await Promise.all([
        this.#redis.xlen(p.stream),
        this.#redis.call('XINFO', 'GROUPS', p.stream).catch(() => []) as Promise<unknown[]>,
      ])
      const g = parseGroups(groupsRaw).find((x) => x.name === GROUP)
      return { partition: p.index, length, pending: g?.pending ?? 0, lag: g ? g.lag : null }
    }))
  }

  // ---- timers -----------------------------------------------------------------

  /** Runs `task` `delay()` ms after the previous run ended; never overlapping, stopped by close(). */
  #every(delay: () => number, task: () => Promise<unknown>): void {
    const schedule = () => {
      if (!this.#running) return
      const t = setTimeout(() => {
        this.#timers.delete(t)
        task().catch((err: unknown) => {
          if (this.#running) this.#log.warn({ err }, 'periodic sender task failed; will run again')
        }).finally(schedule)
      }, delay())
      this.#timers.add(t)
    }
    schedule()
  }

  /** A pause that close() cuts short. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => { clearTimeout(t); this.#sleepers.delete(done); resolve() }
      const t = setTimeout(done, ms)
      this.#sleepers.add(done)
    })
  }
}

/** `items` grouped by the partition of their entry. */
function byPartition<T>(items: readonly T[], entryOf: (item: T) => Entry): Map<Partition, T[]> {
  const groups = new Map<Partition, T[]>()
  for (const item of items) {
    const p = entryOf(item).p
    const list = groups.get(p)
    if (list) list.push(item); else groups.set(p, [item])
  }
  return groups
}

/** Entry fields a dead letter does not copy: the code, those it writes itself, and a retry's carried-forward counts. */
const NOT_REPLAYED = new Set(['code', 'requestId', 'mobile', 'attempts', 'sentBefore', 'failedBefore'])

function fieldOf(fields: readonly string[] | null, name: string): string | undefined {
  if (!fields) return undefined
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]
  return undefined
}
