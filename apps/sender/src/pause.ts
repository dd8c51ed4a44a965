import { encodePausedSender, globalKeys, type RedisClient } from '@sms-verify/shared'
import type { Logger } from 'pino'

/** The pause record outlives the planned resume by this much, so a sender that died paused drops out of stats soon after. */
const RECORD_MARGIN_MS = 5000

export interface AllOpen { readonly until: number, readonly providers: string[] }

export interface PauseOptions {
  readonly redis: RedisClient
  readonly consumer: string
  readonly logger: Logger
  /** the failover's view: every circuit open until `until`, or undefined */
  readonly allOpen: () => AllOpen | undefined
  /** hands back what the sender holds; resolves to how many entries went back */
  readonly handBack: () => Promise<number>
  /** reading and leasing may start again */
  readonly resumed: () => void
}

/**
 * A sender whose every provider circuit is open takes no work: it hands back
 * what it holds, stops reading, leasing and claiming, and resumes when the
 * first circuit half-opens (a timer, no polling). While paused it keeps a
 * record with a TTL for `pnpm sms stats`. See docs/reliability.md.
 */
export class SenderPause {
  #since = 0
  #resumeAt = 0
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor(private readonly o: PauseOptions) {}

  get paused(): boolean { return this.#timer !== undefined }
  /** epoch ms; 0 while not paused */
  get resumeAt(): number { return this.paused ? this.#resumeAt : 0 }

  /** Pauses when every circuit is open; returns whether the sender is paused. Cheap when nothing changed. */
  check(): boolean {
    if (this.#stopped) return this.paused
    const open = this.o.allOpen()
    if (this.paused) {
      // A round in flight at the pause answered since and closed a circuit: no need to wait for the timer.
      if (!open) setImmediate(() => this.#wake())
      return this.paused
    }
    if (!open) return false
    this.#since = Date.now()
    this.#schedule(open)
    this.o.logger.warn({ providers: open.providers, resumeAt: new Date(open.until).toISOString() }, "sender paused: every provider's circuit is open")
    void this.o.handBack().then((count) => {
      if (count > 0) this.o.logger.info({ count }, 'sender paused: jobs held handed back for peers')
    }, (err: unknown) => this.o.logger.warn({ err }, 'sender paused: handing back held jobs failed; they are claimed once idle'))
    return true
  }

  /** Ends the pause for good (close()): no timer, no record. */
  async stop(): Promise<void> {
    this.#stopped = true
    if (!this.paused) return
    clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#clearRecord()
  }

  #schedule(open: AllOpen): void {
    this.#resumeAt = open.until
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => this.#wake(), Math.max(0, open.until - Date.now()))
    void this.#writeRecord(open)
  }

  /** A round in flight at the pause may have failed since and pushed the half-open time on. */
  #wake(): void {
    if (!this.paused || this.#stopped) return
    const open = this.o.allOpen()
    if (open) return this.#schedule(open)
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.o.logger.info({ pausedMs: Date.now() - this.#since }, 'sender resumed')
    void this.#clearRecord()
    this.o.resumed()
  }

  async #writeRecord(open: AllOpen): Promise<void> {
    const record = encodePausedSender({ consumer: this.o.consumer, providers: open.providers, since: this.#since, resumeAt: open.until })
    const ttlMs = Math.max(1, open.until - Date.now()) + RECORD_MARGIN_MS
    try { await this.o.redis.set(globalKeys.pausedSender(this.o.consumer), record, 'PX', ttlMs) } catch (err) {
      this.o.logger.warn({ err }, 'writing the pause record failed; stats will not list this sender as paused')
    }
  }

  async #clearRecord(): Promise<void> {
    try { await this.o.redis.del(globalKeys.pausedSender(this.o.consumer)) } catch (err) {
      this.o.logger.warn({ err }, 'removing the pause record failed; it expires on its own')
    }
  }
}
