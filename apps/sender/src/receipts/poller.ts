import type { Config, RedisClient } from '@sms-verify/shared'
import type { Logger } from 'pino'
import type { Provider, Receipt } from '../provider.js'
import { applyReceipt, type ReceiptResult } from './apply.js'

export interface ReceiptPollerOptions {
  readonly config: Config
  readonly redis: RedisClient
  /** every configured provider; those without pullReceipts are skipped */
  readonly providers: readonly Provider[]
  readonly log: Logger
  /** for metrics: each receipt's result, and its request's queuedAt when known */
  readonly observe?: (receipt: Receipt, result: ReceiptResult, queuedAt?: number) => void
}

/** A pull returns at most this many; a full page means more may wait. */
const PAGE = 100
/** Pages per provider per tick, so one tick stays short even after an outage. */
const MAX_PAGES = 20

/**
 * Pulls delivery receipts (Tencent PullSmsSendStatus, Aliyun QuerySendDetails) every
 * SENDER_RECEIPT_POLL_SECONDS for setups where the callback cannot reach the
 * API. Tests call tick(); only main.ts calls start().
 */
export class ReceiptPoller {
  #timer: NodeJS.Timeout | undefined
  #running: Promise<unknown> = Promise.resolve()
  #closing: Promise<void> | undefined
  readonly #pullers: Array<Provider & Required<Pick<Provider, 'pullReceipts'>>>

  constructor(private readonly o: ReceiptPollerOptions) {
    this.#pullers = o.providers.filter((p): p is Provider & Required<Pick<Provider, 'pullReceipts'>> => typeof p.pullReceipts === 'function')
  }

  /** Whether start() would do anything: the variable is set and some provider can be pulled. */
  get enabled(): boolean {
    return this.o.config.SENDER_RECEIPT_POLL_SECONDS !== undefined && this.#pullers.length > 0
  }

  start(): void {
    if (!this.enabled || this.#closing) return
    const every = this.o.config.SENDER_RECEIPT_POLL_SECONDS! * 1000
    const loop = () => {
      this.#running = this.tick().catch((err: unknown) => this.o.log.warn({ err }, 'receipt pull failed'))
        .finally(() => { if (!this.#closing) this.#timer = setTimeout(loop, every) })
    }
    this.#timer = setTimeout(loop, every)
  }

  /** One pass over every pullable provider; returns how many receipts were applied. */
  async tick(): Promise<number> {
    let applied = 0
    for (const provider of this.#pullers) {
      for (let page = 0; page < MAX_PAGES; page++) {
        const receipts = await provider.pullReceipts(AbortSignal.timeout(this.o.config.PROVIDER_TIMEOUT_MS))
        for (const r of receipts) {
          const { result, queuedAt } = await applyReceipt(this.o.redis, this.o.config, r)
          if (result === 'applied') applied++
          else this.o.log.debug({ provider: r.provider, result }, 'receipt ignored')
          this.o.observe?.(r, result, queuedAt)
        }
        if (receipts.length < PAGE) break
      }
    }
    return applied
  }

  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      clearTimeout(this.#timer)
      await this.#running
    })())
  }
}
