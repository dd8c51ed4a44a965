import {
  DEAD_LETTER_MAXLEN, GROUP, encodeDeadLetter, encodeJob, jobIdOf, recordOf, unseal,
  type BulkJob, type CodeJob, type Config, type E164, type Job, type PartitionKeys, type RedisClient,
} from '@sms-verify/shared'
import type { Logger } from 'pino'
import { backoffMs } from './backoff.js'
import type { Completions } from './completions.js'
import type { Failover } from './failover.js'
import type { SenderMetrics } from './metrics.js'
import { deadLetterScript, finishScript, jobKeys, retryScript, type FinishItem } from './scripts.js'
import { errorText } from './stream.js'
import type { Entry, Leased } from './window.js'

/**
 * Job handling: one round of one leased job (a code or a bulk send through the failover chain)
 * and how it ends: accepted, retried, put back, or dead-lettered. It owns the provider call and
 * the scripts that end a job (retry.lua, dead-letter.lua; a bulk job's finish.lua); it may not
 * touch the window or a lease it was not given: it answers with a JobEnd and the sender acts.
 */
export interface JobsOptions {
  readonly config: Config
  readonly redis: RedisClient
  readonly keys: readonly PartitionKeys[]
  readonly failover: Failover
  readonly sealKey: Buffer | undefined
  readonly logger: Logger
  readonly metrics?: SenderMetrics | undefined
  readonly completions: Completions
  /** partition `index` holds a retry now */
  readonly retrying: (index: number) => void
  /** a round made no provider call: the sender pauses if it found every circuit open */
  readonly checkPause: () => void
}

export type DeadReason = 'malformed' | 'unseal_failed' | 'permanent' | 'carrier_limit' | 'attempts_exhausted'

/** How one handling of a job ended. */
export type JobEnd =
  /** a provider accepted a code job: its completion (`item`) goes to the next batch of its partition */
  | { readonly kind: 'accepted', readonly item: FinishItem }
  /** a bulk job ended with a number sent: its completion is written (or, at the shutdown deadline, left to its lease) */
  | { readonly kind: 'finished' }
  /** back in the retry set, due at `due`; `putBack`: no provider was called (every circuit open) */
  | { readonly kind: 'retried', readonly due: number, readonly putBack: boolean }
  | { readonly kind: 'dead', readonly reason: DeadReason }
  /** another handling took the job over meanwhile (its lease lapsed): nothing written */
  | { readonly kind: 'taken_over' }

/** What ends a job for good: the dead letter's record is built from it and the entry (encodeDeadLetter). */
export interface DeadEnd {
  readonly job: Job | undefined
  readonly reason: DeadReason
  readonly error: string
  readonly attempts: number
  /** the lease token ('' for an entry never leased) */
  readonly token: string
  /** carrier_limit: how long the carrier refuses this number */
  readonly blockMs?: number
  /** per-number results of a bulk job, JSON */
  readonly results?: string
  /** a bulk job's numbers that failed, all rounds */
  readonly mobiles?: string[] | undefined
}

/** The done marker outlives the code by this much; after that an expired job is never sent anyway. */
const DONE_MARGIN_MS = 60_000

type BulkResult = { status: string, provider?: string, messageId?: string, reason?: string, error?: string }

export class Jobs {
  readonly #o: JobsOptions
  readonly #c: Config

  constructor(options: JobsOptions) {
    this.#o = options
    this.#c = options.config
  }

  /** One round of a leased job. Rejects only when Redis does: the entry then stays pending for a claim. */
  send(h: Leased): Promise<JobEnd> {
    return h.job.kind === 'code' ? this.#sendCode(h, h.job) : this.#sendBulk(h, h.job)
  }

  async #sendCode(h: Leased, job: CodeJob): Promise<JobEnd> {
    let code = job.code
    if (code === undefined) {
      try {
        if (job.sealed === undefined) throw new Error('the job carries no code')
        if (!this.#o.sealKey) throw new Error('the code is sealed and JOB_SEAL_KEY is not set')
        code = unseal(this.#o.sealKey, job.sealed, job.requestId)
      } catch (err) {
        return this.deadLetter(h.e, { job, reason: 'unseal_failed', error: errorText(err), attempts: h.base, token: h.token })
      }
    }
    const minutesValid = Math.max(1, Math.round((job.expiresAt - job.createdAt) / 60_000))
    const maxCalls = this.#c.SEND_MAX_ATTEMPTS - h.base
    const round = await this.#o.failover.send({ requestId: job.requestId, mobile: job.mobile as E164, purpose: job.purpose, code, minutesValid }, maxCalls)
    const metrics = this.#o.metrics
    if (metrics) for (const t of round.tried) metrics.sends.inc({ provider: t.provider, outcome: t.kind })
    const attempts = h.base + round.calls
    const outcome = round.outcome
    switch (outcome.kind) {
      case 'accepted': {
        // The message id → request mapping only where a receipt can come back to look it up.
        const receipts = this.#o.failover.reportsReceipts(outcome.provider)
        const k = this.#o.keys[h.e.p.index]!
        return { kind: 'accepted', item: {
          keys: jobKeys(k, job), serial: receipts ? k.serial(outcome.provider, outcome.messageId) : '', entryId: h.e.id, status: 'sent',
          doneMs: doneMs(job, Date.now()), serialMs: receipts ? this.#serialMs() : 0, requestId: job.requestId, results: '', attempts,
          fields: { provider: outcome.provider, messageId: outcome.messageId, ...(outcome.fee === undefined ? {} : { fee: outcome.fee }) },
        } }
      }
      case 'permanent': return this.deadLetter(h.e, { job, reason: 'permanent', error: outcome.error, attempts, token: h.token })
      case 'carrier_limit': return this.deadLetter(h.e,
        { job, reason: 'carrier_limit', error: outcome.error, attempts, token: h.token, blockMs: Math.max(1, outcome.blockedUntil - Date.now()) })
      case 'transient': {
        if (round.calls === 0) return this.#putBack(h, job, outcome.error, '')
        if (attempts >= this.#c.SEND_MAX_ATTEMPTS) return this.deadLetter(h.e, { job, reason: 'attempts_exhausted', error: outcome.error, attempts, token: h.token })
        const timedOut = round.tried.some((t) => t.kind === 'transient' && t.timeout === true)
        return this.#retry(h, { ...job, attempts }, outcome.error, '', timedOut)
      }
    }
  }

  /**
   * One round of one bulk job: a part of its request, with its own identity, lease and record.
   * Numbers that failed transiently go back as this same job with only those numbers; the job
   * ends when none is left: finished when any of its numbers went out (this round or an earlier
   * one), else dead-lettered with its numbers. Its request counts what each of its jobs did.
   */
  async #sendBulk(h: Leased, job: BulkJob): Promise<JobEnd> {
    const maxCalls = this.#c.SEND_MAX_ATTEMPTS - h.base
    const round = await this.#o.failover.sendBulk({
      requestId: job.requestId, mobiles: job.mobiles as E164[], params: job.params,
      ...(job.purpose ? { purpose: job.purpose } : {}), ...(job.templateId ? { templateId: job.templateId } : {}),
    }, maxCalls)
    for (const o of round.outcomes) if (o.provider) this.#o.metrics?.sends.inc({ provider: o.provider, outcome: o.kind })
    if (round.calls === 0) return this.#putBack(h, job, 'every provider circuit is open', '')
    const attempts = h.base + round.calls
    const canRetry = attempts < this.#c.SEND_MAX_ATTEMPTS
    const results: Record<string, BulkResult> = {}
    const retryMobiles: string[] = []
    const failed: string[] = []
    let sent = 0
    let firstFailure: { reason: DeadReason, error: string } | undefined
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
      return this.deadLetter(h.e, { job, ...firstFailure, attempts, token: h.token, results: JSON.stringify(results), mobiles: failedSoFar })
    }
    const k = this.#o.keys[h.e.p.index]!
    const now = Date.now()
    const item: FinishItem = {
      keys: jobKeys(k, job), serial: '', entryId: h.e.id, status: 'sent', doneMs: doneMs(job, now), serialMs: 0,
      requestId: job.requestId, results: JSON.stringify(results), attempts, fields: {},
    }
    const completions = this.#o.completions
    const recorded = await completions.record(h.e.p, finishScript.args(completions.batch(h.e.p, now), [item]), 1)
    if (recorded) this.#o.logger.info({ requestId: job.requestId, jobId: jobIdOf(job), recipients: job.mobiles.length, sent, attempts }, 'bulk job finished')
    return { kind: 'finished' }
  }

  /**
   * A round that made no call (every circuit open, or a half-open one's trial taken): the job goes
   * back as it was, its attempts unchanged, and not before the first circuit half-opens, so it
   * does not spin through the retry set meanwhile. Counted in sms_jobs_put_back_total.
   */
  #putBack(h: Leased, job: Job, error: string, results: string): Promise<JobEnd> {
    const notBefore = this.#o.failover.allOpen()?.until ?? 0
    this.#o.metrics?.putBack.inc()
    this.#o.checkPause()
    return this.#retry(h, job, error, results, false, notBefore)
  }

  async #retry(h: Leased, job: Job, error: string, results: string, timedOut: boolean, notBefore = 0): Promise<JobEnd> {
    const k = this.#o.keys[h.e.p.index]!
    const log = this.#o.logger
    const now = Date.now()
    const due = Math.max(notBefore, now + backoffMs(job.attempts, this.#c.SEND_BACKOFF_BASE_MS, this.#c.SEND_BACKOFF_CAP_MS))
    const scheduled = retryScript.reply(await this.#o.redis.senderRetry(...retryScript.args({
      stream: h.e.p.stream, retries: k.retries, keys: jobKeys(k, job), group: GROUP, entryId: h.e.id, now, due,
      member: JSON.stringify(encodeJob(job)), token: h.token, keepLease: timedOut, results, attempts: job.attempts, error,
    })))
    if (scheduled === undefined) {
      log.warn({ requestId: job.requestId, jobId: jobIdOf(job) }, 'transient failure, but another handling took the job over meanwhile; not rescheduled')
      return { kind: 'taken_over' }
    }
    this.#o.retrying(h.e.p.index)
    if (notBefore > 0) {
      log.info({ requestId: job.requestId, jobId: jobIdOf(job), attempts: job.attempts, inMs: scheduled - now }, 'no provider call (every circuit open); put back until one half-opens')
    } else {
      this.#o.metrics?.retries.inc()
      log.info({ requestId: job.requestId, jobId: jobIdOf(job), attempts: job.attempts, inMs: scheduled - now, error, timedOut }, 'transient failure; retry scheduled')
    }
    return { kind: 'retried', due: scheduled, putBack: notBefore > 0 }
  }

  /** Ends a job for good: dead-letter.lua moves it to the partition's dead stream with the reason. */
  async deadLetter(e: Entry, d: DeadEnd): Promise<JobEnd> {
    const { job, reason, error, attempts, mobiles } = d
    const k = this.#o.keys[e.p.index]!
    const entry = job?.kind === 'code' ? undefined : recordOf<string>(e.fields ?? [])
    const requestId = job?.requestId ?? entry?.requestId ?? ''
    const mobile = job?.kind === 'code' ? job.mobile : (entry?.mobile ?? '')
    const now = Date.now()
    // The original fields go along for a replay; encodeDeadLetter leaves out the code and what a retry carried forward.
    const dead = encodeDeadLetter({
      requestId, reason, attempts, lastError: error, failedAt: now, entryId: e.id,
      ...(mobile ? { mobile } : {}), ...(mobiles ? { mobiles } : {}), original: e.fields ?? [],
    })
    // A malformed entry has no job: it goes by its request id, like a code job.
    const keys = job ? jobKeys(k, job) : { lease: k.lease(requestId), request: k.request(requestId), job: k.request(requestId) }
    const done = deadLetterScript.reply(await this.#o.redis.senderDeadLetter(...deadLetterScript.args({
      stream: e.p.stream, dead: k.dead, keys, number: k.number(mobile as E164), group: GROUP, entryId: e.id, now,
      maxlen: DEAD_LETTER_MAXLEN, token: d.token, blockMs: d.blockMs ?? 0, reason, error, attempts, results: d.results ?? '', entry: dead,
    })))
    if (!done) {
      this.#o.logger.warn({ requestId, reason }, 'job failed, but another handling took it over meanwhile; not dead-lettered')
      return { kind: 'taken_over' }
    }
    this.#o.metrics?.deadLetters.inc({ reason })
    this.#o.logger.warn({ requestId, mobile: mobile || undefined, reason, error, attempts }, 'job dead-lettered')
    return { kind: 'dead', reason }
  }

  #serialMs(): number {
    return (this.#c.CODE_TTL_SECONDS + this.#c.STATUS_TTL_SECONDS) * 1000
  }
}

function doneMs(job: Job, now: number): number {
  return Math.max(0, job.expiresAt - now) + DONE_MARGIN_MS
}

