import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import {
  DEAD_LETTER_MAXLEN, GROUP, allPartitions, clusterMode, decodeJob, encodeJob, keys, partitionCount, sealKeyFrom, unseal,
  type BulkJob, type CodeJob, type Config, type E164, type Job, type Partition, type RedisClient,
} from '@sms-verify/shared'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { backoffMs } from './backoff.js'
import { Failover } from './failover.js'
import type { SenderMetrics, StreamSample } from './metrics.js'
import type { Attributed, Provider } from './provider.js'
import { failoverOptions } from './providers/index.js'
import { claimInterval, maintenanceInterval, minStreamId, parseGroups, promoteInterval } from './stream.js'

export interface SenderOptions {
  readonly config: Config
  /** commands and scripts; its offline queue lets an outage wait and resume */
  readonly redis: RedisClient
  /** blocking reads; when omitted, a duplicate of `redis` made at start and closed by close() */
  readonly blockingRedis?: RedisClient
  /** a single provider or a failover chain */
  readonly provider: Provider | Failover
  readonly logger: Logger
  readonly metrics?: SenderMetrics
  /** defaults to hostname-pid-random */
  readonly consumer?: string
}

interface Entry { readonly p: Partition, readonly id: string, readonly fields: string[] | null }
type Items = Array<[id: string, fields: string[] | null]>
/** RESP2 answers [[stream, items], …]; RESP3 (ioredis 6's default) a map, flattened to [stream, items, …]. */
type StreamReply = Array<[string, Items]> | Array<string | Items> | null

/** Margin of the send lease over the provider deadline(s): covers the completion script and clock skew. */
const LEASE_MARGIN_MS = 2000
/** The done marker outlives the code by this much; after that an expired job is never sent anyway. */
const DONE_MARGIN_MS = 60_000
const PROMOTE_BATCH = 100

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err))
const isNoGroup = (err: unknown) => errorText(err).startsWith('NOGROUP')

/**
 * Consumes every partition stream through the group `senders`: a sliding
 * window of SENDER_CONCURRENCY sends, retries through a per-partition retry
 * set, dead letters, and crash recovery with XAUTOCLAIM. See README,
 * "Reliability", for the guarantees.
 */
export class Sender {
  readonly consumer: string
  readonly #o: SenderOptions
  readonly #c: Config
  readonly #partitions: Partition[]
  readonly #byStream: Map<string, Partition>
  readonly #failover: Failover
  readonly #sealKey: Buffer | undefined
  readonly #log: Logger
  readonly #buffer: Entry[] = []
  readonly #inFlight = new Set<Promise<void>>()
  readonly #timers = new Set<NodeJS.Timeout>()
  #blocking: RedisClient | undefined
  #ownsBlocking = false
  #running = false
  #loop: Promise<void> | undefined
  #closing: Promise<void> | undefined
  #roomWaiter: (() => void) | undefined
  #groupsReady: Promise<void> | undefined
  readonly #sleepers = new Set<() => void>()

  constructor(options: SenderOptions) {
    this.#o = options
    this.#c = options.config
    this.consumer = options.consumer ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
    this.#partitions = allPartitions(partitionCount(this.#c), clusterMode(this.#c))
    this.#byStream = new Map(this.#partitions.map((p) => [p.stream, p]))
    this.#failover = options.provider instanceof Failover ? options.provider : new Failover([options.provider], failoverOptions(this.#c))
    this.#sealKey = sealKeyFrom(this.#c.JOB_SEAL_KEY)
    this.#log = options.logger
  }

  get inFlight(): number { return this.#inFlight.size }

  /** Creates the groups, then reads until close(). Only main.ts calls this; tests call tick(). */
  async start(): Promise<void> {
    if (this.#running || this.#closing) return
    await this.#ensureGroups()
    this.#o.metrics?.setSampler(() => this.sampleStreams())
    this.#running = true
    this.#every(promoteInterval(this.#c), () => this.promote())
    this.#every(claimInterval(this.#c), () => this.claim())
    this.#every(maintenanceInterval(this.#c), () => this.maintain())
    this.#loop = this.#run()
    this.#log.info({ consumer: this.consumer, partitions: this.#partitions.length, providers: this.#failover.names }, 'sender started')
  }

  /**
   * One pass without blocking: promote due retries, take over stale entries,
   * read new ones, send them (within the window) and wait for those sends.
   * Returns how many entries were handled.
   */
  async tick(): Promise<number> {
    await this.#ensureGroupsOnce()
    await this.promote()
    await this.claim()
    this.#buffer.push(...await this.#read(Math.max(1, this.#room()), 0))
    const handled = this.#buffer.length
    while (this.#buffer.length > 0) {
      this.#pump(true)
      await Promise.race(this.#inFlight)
    }
    await Promise.all(this.#inFlight)
    return handled
  }

  /** Stops reading, awaits in-flight sends (up to SHUTDOWN_TIMEOUT_MS), closes what it opened. Safe to call twice. */
  close(): Promise<void> {
    return (this.#closing ??= this.#shutdown())
  }

  async #shutdown(): Promise<void> {
    this.#running = false
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
    this.#roomWaiter?.()
    for (const wake of this.#sleepers) wake()
    const steps: Array<[string, () => Promise<unknown>]> = [
      ['await the read loop', () => this.#awaitLoop()],
      ['await in-flight sends', () => this.#drainInFlight()],
      ['close the blocking connection', async () => { if (this.#ownsBlocking) this.#blocking?.disconnect() }],
    ]
    for (const [what, step] of steps) {
      try { await step() } catch (err) { this.#log.error({ err }, `sender close: ${what} failed`) }
    }
    if (this.#buffer.length > 0) {
      // Read but never started: they stay in this consumer's pending list for another replica to claim.
      this.#log.info({ count: this.#buffer.length }, 'sender close: unstarted entries left pending for another replica')
      this.#buffer.length = 0
    }
    this.#log.info({ consumer: this.consumer }, 'sender stopped')
  }

  /** A blocked read returns within SENDER_BLOCK_MS; one stuck on a Redis outage is cut off. */
  async #awaitLoop(): Promise<void> {
    if (!this.#loop) return
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), this.#c.SENDER_BLOCK_MS + 1000) })
    const result = await Promise.race([this.#loop.then(() => 'done' as const), late])
    clearTimeout(timer)
    if (result === 'late' && this.#ownsBlocking) {
      this.#blocking?.disconnect()
      await this.#loop
    }
  }

  async #drainInFlight(): Promise<void> {
    if (this.#inFlight.size === 0) return
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), this.#c.SHUTDOWN_TIMEOUT_MS) })
    const result = await Promise.race([Promise.all(this.#inFlight).then(() => 'done' as const), timeout])
    clearTimeout(timer)
    if (result === 'timeout') this.#log.warn({ inFlight: this.#inFlight.size }, 'sender close: shutdown timeout with sends in flight; their leases keep other replicas from resending')
  }

  // ---- the read loop --------------------------------------------------------

  async #run(): Promise<void> {
    let failures = 0
    while (this.#running) {
      try {
        await this.#waitForRoom()
        if (!this.#running) break
        const entries = await this.#read(this.#room(), this.#c.SENDER_BLOCK_MS)
        this.#buffer.push(...entries)
        this.#pump()
        failures = 0
      } catch (err) {
        if (!this.#running) break
        if (isNoGroup(err)) {
          this.#log.warn({ err }, 'consumer group missing (Redis lost its data?): recreating it')
          this.#groupsReady = undefined
          await this.#ensureGroupsOnce().catch((e: unknown) => this.#log.error({ err: e }, 'could not recreate the consumer group'))
        } else {
          failures++
          if (failures === 1 || failures % 50 === 0) this.#log.error({ err, failures }, 'reading the stream failed; retrying')
        }
        await this.#sleep(Math.min(100 * failures, 1000))
      }
    }
  }

  #room(): number {
    return this.#c.SENDER_CONCURRENCY - this.#inFlight.size - this.#buffer.length
  }

  #waitForRoom(): Promise<void> {
    if (this.#room() > 0) return Promise.resolve()
    return new Promise((resolve) => { this.#roomWaiter = resolve })
  }

  /** Starts buffered entries while the window has room. */
  #pump(force = false): void {
    while (this.#buffer.length > 0 && this.#inFlight.size < this.#c.SENDER_CONCURRENCY && (this.#running || force)) {
      const entry = this.#buffer.shift()!
      const task: Promise<void> = this.#handle(entry)
        .catch((err: unknown) => this.#log.error({ err, entryId: entry.id, partition: entry.p.index }, 'handling a job failed; it stays pending and will be claimed again'))
        .finally(() => {
          this.#inFlight.delete(task)
          if (this.#running) this.#pump()
          if (this.#room() > 0 && this.#roomWaiter) {
            const wake = this.#roomWaiter
            this.#roomWaiter = undefined
            wake()
          }
        })
      this.#inFlight.add(task)
    }
  }

  /**
   * XREADGROUP of new entries. Standalone: one command names every stream,
   * so an idle sender costs one blocked command. Cluster: streams live on
   * different slots, so one read per partition (COUNT is per stream, hence
   * the division).
   */
  async #read(room: number, blockMs: number): Promise<Entry[]> {
    if (room <= 0) return []
    const conn = blockMs > 0 ? this.#blockingConn() : this.#o.redis
    const count = Math.max(1, Math.ceil(room / this.#partitions.length))
    const block = blockMs > 0 ? ['BLOCK', blockMs] : []
    const read = (streams: Partition[]) => conn.call('XREADGROUP', 'GROUP', GROUP, this.consumer, 'COUNT', count, ...block,
      'STREAMS', ...streams.map((p) => p.stream), ...streams.map(() => '>')) as Promise<StreamReply>
    const replies = clusterMode(this.#c)
      ? await Promise.all(this.#partitions.map((p) => read([p])))
      : [await read(this.#partitions)]
    return replies.flatMap((reply) => this.#entries(reply))
  }

  #entries(reply: StreamReply): Entry[] {
    const out: Entry[] = []
    if (!reply) return out
    const pairs: Array<[string, Items]> = typeof reply[0] === 'string'
      ? Array.from({ length: reply.length / 2 }, (_, i) => [reply[2 * i] as string, reply[2 * i + 1] as Items])
      : reply as Array<[string, Items]>
    for (const [stream, items] of pairs) {
      const p = this.#byStream.get(stream)
      if (p) for (const [id, fields] of items) out.push({ p, id, fields })
    }
    return out
  }

  #blockingConn(): RedisClient {
    if (!this.#blocking) {
      this.#blocking = this.#o.blockingRedis ?? (this.#o.redis as Redis).duplicate()
      this.#ownsBlocking = this.#o.blockingRedis === undefined
    }
    return this.#blocking!
  }

  // ---- groups, retries, recovery, trimming ---------------------------------------

  #ensureGroupsOnce(): Promise<void> {
    return (this.#groupsReady ??= this.#ensureGroups().catch((err: unknown) => { this.#groupsReady = undefined; throw err }))
  }

  async #ensureGroups(): Promise<void> {
    await Promise.all(this.#partitions.map(async (p) => {
      try {
        // From 0: jobs queued before any sender existed are consumed too.
        await this.#o.redis.xgroup('CREATE', p.stream, GROUP, '0', 'MKSTREAM')
      } catch (err) {
        if (!errorText(err).startsWith('BUSYGROUP')) throw err
      }
    }))
  }

  /** Moves due retries of every partition back into its stream. Returns how many moved. */
  async promote(): Promise<number> {
    const now = Date.now()
    const moved = await Promise.all(this.#partitions.map(async (p) => {
      let total = 0
      for (;;) {
        const n = await this.#o.redis.smsPromote(keys(p).retries, p.stream, now, PROMOTE_BATCH)
        total += n
        if (n < PROMOTE_BATCH) return total
      }
    }))
    return moved.reduce((a, b) => a + b, 0)
  }

  /**
   * XAUTOCLAIM entries idle longer than SENDER_CLAIM_IDLE_MS (a dead
   * replica's, or our own that stalled) into the window. Entries trimmed or
   * deleted meanwhile come back as deleted ids or nil fields and are acked.
   */
  async claim(): Promise<number> {
    let claimed = 0
    for (const p of this.#partitions) {
      let cursor = '0-0'
      do {
        const room = this.#room()
        if (room <= 0) return claimed
        let reply: [string, Array<[string, string[] | null]>, string[]?]
        try {
          reply = await this.#o.redis.call('XAUTOCLAIM', p.stream, GROUP, this.consumer, this.#c.SENDER_CLAIM_IDLE_MS, cursor, 'COUNT', room) as typeof reply
        } catch (err) {
          if (isNoGroup(err)) { this.#groupsReady = undefined; await this.#ensureGroupsOnce(); break }
          throw err
        }
        const [next, items, deleted = []] = reply
        cursor = next
        const gone = [...deleted, ...items.filter(([, f]) => f === null).map(([id]) => id)]
        if (gone.length > 0) {
          await this.#o.redis.xack(p.stream, GROUP, ...gone)
          this.#log.warn({ partition: p.index, count: gone.length }, 'claimed entries were trimmed or deleted meanwhile; acked')
        }
        const live = items.filter((it): it is [string, string[]] => it[1] !== null)
        if (live.length > 0) {
          this.#log.info({ partition: p.index, count: live.length }, 'took over stale pending entries')
          claimed += live.length
          this.#buffer.push(...live.map(([id, fields]) => ({ p, id, fields })))
          this.#pump()
        }
      } while (cursor !== '0-0')
    }
    return claimed
  }

  /**
   * Keeps streams bounded without touching pending entries: trims below the
   * older of the group's first pending id and its last-delivered id, and
   * removes consumers that hold nothing and have been idle for long.
   */
  async maintain(): Promise<void> {
    await Promise.all(this.#partitions.map(async (p) => {
      const redis = this.#o.redis
      const [groupsRaw, summary] = await Promise.all([
        redis.call('XINFO', 'GROUPS', p.stream) as Promise<unknown[]>,
        redis.call('XPENDING', p.stream, GROUP) as Promise<[number, string | null, string | null, unknown]>,
      ])
      const group = parseGroups(groupsRaw).find((g) => g.name === GROUP)
      if (!group) return
      const minId = minStreamId(group.lastDeliveredId, Number(summary[0]) > 0 ? summary[1] : null)
      if (minId !== '0-0') await redis.call('XTRIM', p.stream, 'MINID', '~', minId)
      const consumers = await redis.call('XINFO', 'CONSUMERS', p.stream, GROUP) as unknown[][]
      for (const raw of consumers) {
        const c = fieldsOf(raw)
        const idle = Number(c.inactive ?? c.idle)
        if (c.name !== this.consumer && Number(c.pending) === 0 && idle > 10 * this.#c.SENDER_CLAIM_IDLE_MS) {
          await redis.xgroup('DELCONSUMER', p.stream, GROUP, String(c.name))
          this.#log.info({ partition: p.index, gone: c.name }, 'removed an idle consumer that held nothing')
        }
      }
    }))
  }

  /** Length, pending and lag per partition, for the metrics gauges (sampled on scrape). */
  async sampleStreams(): Promise<StreamSample[]> {
    return Promise.all(this.#partitions.map(async (p) => {
      const [length, groupsRaw] = await Promise.all([
        this.#o.redis.xlen(p.stream),
        this.#o.redis.call('XINFO', 'GROUPS', p.stream).catch(() => []) as Promise<unknown[]>,
      ])
      const g = parseGroups(groupsRaw).find((x) => x.name === GROUP)
      return { partition: p.index, length, pending: g?.pending ?? 0, lag: g?.lag ?? 0 }
    }))
  }

  // ---- one job ------------------------------------------------------------------

  async #handle(e: Entry): Promise<void> {
    const redis = this.#o.redis
    if (e.fields === null) {
      await redis.xack(e.p.stream, GROUP, e.id)
      return
    }
    const decoded = decodeJob(e.fields)
    if (!decoded.ok) {
      await this.#deadLetter(e, undefined, 'malformed', decoded.reason, 0, '')
      return
    }
    const job = decoded.job
    const k = keys(e.p)
    const now = Date.now()
    if (job.expiresAt <= now) {
      await redis.smsFinish(e.p.stream, k.request(job.requestId), k.lease(job.requestId), k.serial('', ''), GROUP, e.id, now, 'expired', 0, 0, job.requestId, '')
      this.#o.metrics?.expired.inc()
      this.#log.info({ requestId: job.requestId }, 'job expired before it could be sent; not sent')
      return
    }
    const maxCalls = this.#c.SEND_MAX_ATTEMPTS - job.attempts
    const token = `${this.consumer}/${e.id}`
    if (maxCalls <= 0) {
      await this.#deadLetter(e, job, 'attempts_exhausted', 'no attempts left', job.attempts, token)
      return
    }
    const leaseMs = this.#c.PROVIDER_TIMEOUT_MS * Math.min(this.#failover.size, maxCalls) + LEASE_MARGIN_MS
    const lease = await redis.smsLease(k.lease(job.requestId), k.request(job.requestId), token, leaseMs, now, job.attempts)
    if (lease === 'done') {
      await redis.smsFinish(e.p.stream, k.request(job.requestId), k.lease(job.requestId), k.serial('', ''), GROUP, e.id, now, '', 0, 0, job.requestId, '')
      this.#log.info({ requestId: job.requestId }, 'request already ended; entry acked without sending')
      return
    }
    if (lease === 'busy') {
      // Another call for this request may still be in flight: leave the entry pending; it is claimed again later.
      this.#log.info({ requestId: job.requestId }, 'request is leased by another send; left pending')
      return
    }
    if (job.kind === 'code') await this.#sendCode(e, job, token, maxCalls)
    else await this.#sendBulk(e, job, token, maxCalls)
  }

  async #sendCode(e: Entry, job: CodeJob, token: string, maxCalls: number): Promise<void> {
    let code = job.code
    if (code === undefined) {
      try {
        if (job.sealed === undefined) throw new Error('the job carries no code')
        if (!this.#sealKey) throw new Error('the code is sealed and JOB_SEAL_KEY is not set')
        code = unseal(this.#sealKey, job.sealed, job.requestId)
      } catch (err) {
        await this.#deadLetter(e, job, 'unseal_failed', errorText(err), job.attempts, token)
        return
      }
    }
    const minutesValid = Math.max(1, Math.round((job.expiresAt - job.createdAt) / 60_000))
    const round = await this.#failover.send({ requestId: job.requestId, mobile: job.mobile as E164, purpose: job.purpose, code, minutesValid }, maxCalls)
    for (const t of round.tried) this.#o.metrics?.sends.inc({ provider: t.provider, outcome: t.kind })
    const attempts = job.attempts + round.calls
    const outcome = round.outcome
    switch (outcome.kind) {
      case 'accepted': return this.#accepted(e, job, outcome, attempts)
      case 'permanent': return this.#deadLetter(e, job, 'permanent', outcome.error, attempts, token)
      case 'carrier_limit': return this.#deadLetter(e, job, 'carrier_limit', outcome.error, attempts, token, Math.max(1, outcome.blockedUntil - Date.now()))
      case 'transient':
        if (attempts >= this.#c.SEND_MAX_ATTEMPTS) return this.#deadLetter(e, job, 'attempts_exhausted', outcome.error, attempts, token)
        return this.#retry(e, { ...job, attempts }, token, outcome.error, '')
    }
  }

  async #accepted(e: Entry, job: Job, outcome: Attributed & { kind: 'accepted' }, attempts: number): Promise<void> {
    const k = keys(e.p)
    const now = Date.now()
    const fields: Array<string | number> = ['attempts', attempts, 'provider', outcome.provider, 'messageId', outcome.messageId]
    if (outcome.fee !== undefined) fields.push('fee', outcome.fee)
    await this.#o.redis.smsFinish(e.p.stream, k.request(job.requestId), k.lease(job.requestId), k.serial(outcome.provider, outcome.messageId),
      GROUP, e.id, now, 'sent', this.#doneMs(job, now), this.#serialMs(), job.requestId, '', ...fields)
    this.#o.metrics?.enqueueToAccepted.observe(Math.max(0, now - job.createdAt) / 1000)
    this.#log.debug({ requestId: job.requestId, provider: outcome.provider, attempts }, 'sms accepted by the provider')
  }

  async #sendBulk(e: Entry, job: BulkJob, token: string, maxCalls: number): Promise<void> {
    const round = await this.#failover.sendBulk({
      requestId: job.requestId, mobiles: job.mobiles as E164[], params: job.params,
      ...(job.purpose ? { purpose: job.purpose } : {}), ...(job.templateId ? { templateId: job.templateId } : {}),
    }, maxCalls)
    for (const o of round.outcomes) if (o.provider) this.#o.metrics?.sends.inc({ provider: o.provider, outcome: o.kind })
    const attempts = job.attempts + round.calls
    const canRetry = attempts < this.#c.SEND_MAX_ATTEMPTS
    const results: Record<string, unknown> = {}
    const retryMobiles: string[] = []
    const k = keys(e.p)
    const now = Date.now()
    const serials: Array<Promise<unknown>> = []
    round.outcomes.forEach((o, i) => {
      const mobile = job.mobiles[i]!
      if (o.kind === 'accepted') {
        results[mobile] = { status: 'sent', provider: o.provider, messageId: o.messageId }
        serials.push(this.#o.redis.set(k.serial(o.provider, o.messageId), job.requestId, 'PX', this.#serialMs()))
      } else if (o.kind === 'transient' && canRetry) {
        retryMobiles.push(mobile)
      } else {
        const reason = o.kind === 'transient' ? 'attempts_exhausted' : o.kind
        results[mobile] = { status: 'failed', reason, error: o.error, ...(o.provider ? { provider: o.provider } : {}) }
      }
    })
    await Promise.all(serials)
    if (retryMobiles.length > 0) {
      await this.#retry(e, { ...job, mobiles: retryMobiles, attempts }, token, 'transient failures for some numbers', JSON.stringify(results))
      return
    }
    await this.#o.redis.smsFinish(e.p.stream, k.request(job.requestId), k.lease(job.requestId), k.serial('', ''),
      GROUP, e.id, now, 'sent', this.#doneMs(job, now), 0, job.requestId, JSON.stringify(results), 'attempts', attempts)
    this.#log.info({ requestId: job.requestId, recipients: job.mobiles.length, attempts }, 'bulk job finished')
  }

  async #retry(e: Entry, job: Job, token: string, error: string, results: string): Promise<void> {
    const k = keys(e.p)
    const now = Date.now()
    const due = now + backoffMs(job.attempts, this.#c.SEND_BACKOFF_BASE_MS, this.#c.SEND_BACKOFF_CAP_MS)
    const scheduled = await this.#o.redis.smsRetry(e.p.stream, k.retries, k.request(job.requestId), k.lease(job.requestId),
      GROUP, e.id, now, due, JSON.stringify(encodeJob(job)), token, results,
      'attempts', job.attempts, 'lastError', error, 'retryAt', due)
    if (scheduled === 1) this.#o.metrics?.retries.inc()
    this.#log.info({ requestId: job.requestId, attempts: job.attempts, inMs: due - now, error }, 'transient failure; retry scheduled')
  }

  async #deadLetter(e: Entry, job: Job | undefined, reason: string, error: string, attempts: number, token: string, blockMs = 0): Promise<void> {
    const k = keys(e.p)
    const requestId = job?.requestId ?? fieldOf(e.fields, 'requestId') ?? ''
    const mobile = job?.kind === 'code' ? job.mobile : (fieldOf(e.fields, 'mobile') ?? '')
    const dead: string[] = ['requestId', requestId, 'reason', reason, 'attempts', String(attempts), 'lastError', error,
      'failedAt', String(Date.now()), 'entryId', e.id]
    if (mobile) dead.push('mobile', mobile)
    // The original fields, for a replay; never the plaintext code.
    const original = e.fields ?? []
    for (let i = 0; i + 1 < original.length; i += 2) {
      const f = original[i]!
      if (f !== 'code' && f !== 'requestId' && f !== 'mobile' && f !== 'attempts') dead.push(f, original[i + 1]!)
    }
    await this.#o.redis.smsDeadLetter(e.p.stream, k.dead, k.request(requestId), k.lease(requestId), k.carrierBlock(mobile as E164),
      GROUP, e.id, Date.now(), DEAD_LETTER_MAXLEN, token, blockMs, reason, error, attempts, ...dead)
    this.#o.metrics?.deadLetters.inc({ reason })
    this.#log.warn({ requestId, mobile: mobile || undefined, reason, error, attempts }, 'job dead-lettered')
  }

  #doneMs(job: Job, now: number): number {
    return Math.max(0, job.expiresAt - now) + DONE_MARGIN_MS
  }

  #serialMs(): number {
    return (this.#c.CODE_TTL_SECONDS + this.#c.STATUS_TTL_SECONDS) * 1000
  }

  // ---- timers -----------------------------------------------------------------

  /** Runs `task` every `ms` after the previous run ended; never overlapping, stopped by close(). */
  #every(ms: number, task: () => Promise<unknown>): void {
    const schedule = () => {
      if (!this.#running) return
      const t = setTimeout(() => {
        this.#timers.delete(t)
        task().catch((err: unknown) => {
          if (this.#running) this.#log.warn({ err }, 'periodic sender task failed; will run again')
        }).finally(schedule)
      }, ms)
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

function fieldOf(fields: readonly string[] | null, name: string): string | undefined {
  if (!fields) return undefined
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]
  return undefined
}

function fieldsOf(raw: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i])] = raw[i + 1]
  return out
}
