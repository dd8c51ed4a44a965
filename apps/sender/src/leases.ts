import { randomBytes } from 'node:crypto'
import { GROUP, decodeJob, type Config, type Job, type Partition, type PartitionKeys, type RedisClient } from '@sms-verify/shared'
import type { Logger } from 'pino'
import type { Jobs } from './jobs.js'
import type { SenderMetrics } from './metrics.js'
import { jobKeys, leaseScript, unleaseScript, type LeaseItem } from './scripts.js'
import { byPartition, type Entry, type Ready, type SendWindow, type ToLease } from './window.js'

/**
 * Leases: taking a job's lease before its provider round (lease.lua, one call per partition
 * batch), renewing the lease of a job that waited too long for a slot, and handing back what
 * was never started (unlease.lua, then XCLAIM with a huge IDLE). It owns the lease tokens and
 * the lease calls in flight, and it moves leasing entries on in the window by their verdict;
 * it may not start a provider call: leased jobs join the window's ready list.
 */
export interface LeasesOptions {
  readonly config: Config
  readonly redis: RedisClient
  readonly keys: readonly PartitionKeys[]
  readonly consumer: string
  readonly logger: Logger
  readonly metrics?: SenderMetrics | undefined
  readonly window: SendWindow
  readonly jobs: Jobs
  /** how many providers the failover chain has */
  readonly providers: number
  /** a leasing entry whose handling is a Redis write (an ack, a dead letter): run it in the window */
  readonly side: (e: Entry, work: Promise<unknown>) => void
  /** this process acked something in partition `index` (or left it pending): trim it */
  readonly touched: (index: number) => void
  /** entries left the window or became ready: start, lease or read what now fits */
  readonly afterRelease: () => void
}

/**
 * Entries read but never started are handed back with this idle time (about 116 days), so
 * any peer's next XAUTOCLAIM takes them at once, whatever its SENDER_CLAIM_IDLE_MS.
 */
const HANDBACK_IDLE_MS = 10_000_000_000

export class Leases {
  readonly #o: LeasesOptions
  /** how long a lease lasts: every call one round may make, plus the completion script */
  readonly leaseMs: number
  /** a ready job that waited longer than this is renewed before its call, so the lease covers the whole round */
  readonly freshMs: number
  /** lease tokens: unique per handling, also across processes that share a consumer name */
  readonly #tokenPrefix = `${randomBytes(6).toString('base64url')}:`
  #tokenSeq = 0
  /** lease calls on their way (handBack() awaits them: what they lease is handed back too) */
  readonly #calls = new Set<Promise<void>>()

  constructor(options: LeasesOptions) {
    this.#o = options
    const c = options.config
    const margin = Math.min(2000, Math.max(200, c.PROVIDER_TIMEOUT_MS))
    this.leaseMs = c.PROVIDER_TIMEOUT_MS * Math.min(options.providers, c.SEND_MAX_ATTEMPTS) + margin
    this.freshMs = margin / 4
  }

  /** Leases `items` (counted as leasing in the window), one call per partition; never rejects. */
  lease(items: readonly ToLease[]): void {
    for (const [p, list] of byPartition(items, (item) => item.e)) {
      const call: Promise<void> = this.#lease(p, list).finally(() => this.#calls.delete(call))
      this.#calls.add(call)
    }
  }

  /**
   * One lease call for a batch of one partition. Leased jobs join the ready list and start as
   * slots free; the rest are acked, dead-lettered or left pending here.
   */
  async #lease(p: Partition, items: readonly ToLease[]): Promise<void> {
    const { window, jobs, logger } = this.#o
    const k = this.#o.keys[p.index]!
    const leasing: Array<{ e: Entry, job: Job, token: string }> = []
    const calls: LeaseItem[] = []
    for (const { e, token: renewing } of items) {
      if (e.fields === null) {
        this.#o.side(e, this.#o.redis.xack(p.stream, GROUP, e.id))
        continue
      }
      const decoded = decodeJob(e.fields)
      if (!decoded.ok) {
        this.#o.side(e, jobs.deadLetter(e, { job: undefined, reason: 'malformed', error: decoded.reason, attempts: 0, token: '' }))
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
      const batch = { group: GROUP, now: Date.now(), leaseMs: this.leaseMs, maxAttempts: this.#o.config.SEND_MAX_ATTEMPTS }
      reply = leaseScript.reply(await this.#o.redis.senderLease(p.stream, ...leaseScript.args(batch, calls)))
    } catch (err) {
      logger.error({ err, partition: p.index, count: leasing.length }, 'leasing jobs failed; they stay pending and will be claimed again')
      for (const { e } of leasing) this.#letGo(e)
      this.#o.afterRelease()
      return
    }
    const readyAt = Date.now()
    for (let i = 0; i < leasing.length; i++) {
      const { e, job, token } = leasing[i]!
      const { verdict, base } = reply[i]!
      switch (verdict) {
        case 'leased':
          window.leased({ e, job, token, base, readyAt })
          break
        case 'exhausted': {
          // A bulk job's numbers still due end here too: each reads failed, none is lost.
          const due = job.kind === 'bulk' ? job.mobiles : []
          const results = due.length > 0 ? JSON.stringify(Object.fromEntries(due.map((m) => [m, { status: 'failed', reason: 'attempts_exhausted', error: 'no attempts left' }]))) : ''
          const mobiles = job.kind === 'bulk' ? [...job.failedBefore ?? [], ...due] : undefined
          this.#o.side(e, jobs.deadLetter(e, { job, reason: 'attempts_exhausted', error: 'no attempts left', attempts: base, token, results, mobiles }))
          break
        }
        case 'expired':
          this.#o.metrics?.expired.inc()
          logger.info({ requestId: job.requestId }, 'job expired before it could be sent; not sent')
          this.#letGo(e)
          break
        case 'busy':
          // Another handling holds the lease (its call may still be in flight): the entry stays pending and is claimed again later.
          logger.info({ requestId: job.requestId }, 'request is leased by another send; left pending')
          this.#letGo(e)
          break
        case 'stale':
          logger.info({ requestId: job.requestId, entryId: e.id }, 'stale copy of a job that moved on; acked without sending')
          this.#letGo(e)
          break
        case 'done':
          logger.debug({ requestId: job.requestId }, 'request already ended; entry acked without sending')
          this.#letGo(e)
          break
        default:
          verdict satisfies never // a new verdict must be handled here
      }
    }
    this.#o.afterRelease()
  }

  /** A leasing entry that will not be sent here: acked by the lease call, or left pending for a claim. */
  #letGo(e: Entry): void {
    this.#o.window.letGo(e)
    this.#o.touched(e.p.index)
  }

  /**
   * Hands back what this process holds and has not started (close, pause): leases taken ahead
   * are given back, and entries go back with XCLAIM and a huge IDLE, so a peer's next XAUTOCLAIM
   * takes them without waiting SENDER_CLAIM_IDLE_MS. Returns how many entries went back.
   */
  async handBack(): Promise<number> {
    await Promise.all(this.#calls) // what they lease joins the ready list, handed back below
    const { ready, entries } = this.#o.window.handBack()
    await this.#unlease(ready)
    if (entries.length === 0) return 0
    await Promise.all([...byPartition(entries, (e) => e)].map(([p, list]) =>
      this.#o.redis.call('XCLAIM', p.stream, GROUP, this.#o.consumer, 0, ...list.map((e) => e.id), 'IDLE', HANDBACK_IDLE_MS, 'JUSTID')))
    return entries.length
  }

  /** Gives back the leases of ready jobs that never started (unlease.lua), one call per partition. */
  async #unlease(ready: readonly Ready[]): Promise<void> {
    await Promise.all([...byPartition(ready, (h) => h.e)].map(async ([p, list]) => {
      const k = this.#o.keys[p.index]!
      try {
        await this.#o.redis.senderUnlease(p.stream, ...unleaseScript.args(list.map((h) => ({ keys: jobKeys(k, h.job), entryId: h.e.id, token: h.token, base: h.base }))))
      } catch (err) {
        this.#o.logger.warn({ err, partition: p.index, count: list.length }, 'giving back leases taken ahead failed; a peer takes those entries once the leases expire')
      }
    }))
  }
}
