import { CallDeadlines } from './call-deadlines.js'
import { Circuit } from './circuit.js'
import type { Attributed, BulkMessage, CodeMessage, Provider, SendOutcome } from './provider.js'

export interface FailoverOptions {
  /** the longest one provider call may take; a call past it counts as transient */
  readonly timeoutMs: number
  readonly circuitThreshold: number
  readonly circuitCooldownMs: number
  readonly now?: () => number
}

/** `tried` lists every call's outcome in order; `outcome` is the last one. */
export interface RoundResult { readonly outcome: Attributed, readonly calls: number, readonly tried: Attributed[] }
export interface BulkRoundResult { readonly outcomes: Attributed[], readonly calls: number }

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err))
/** A call that failed or was cut off at the deadline (`timeout`: it may still reach the phone). */
const transient = (error: string, timeout: boolean): SendOutcome => (timeout ? { kind: 'transient', error, timeout } : { kind: 'transient', error })

/**
 * Providers in failover order, each behind its own circuit breaker. One round
 * tries the providers whose circuit admits a call, in order, until one
 * answers something other than a transient failure; every call counts as an
 * attempt. The queue applies backoff between rounds, never inside one.
 */
export class Failover {
  readonly #entries: Array<{ provider: Provider, circuit: Circuit }>
  readonly #deadlines: CallDeadlines

  constructor(providers: readonly Provider[], private readonly o: FailoverOptions) {
    if (providers.length === 0) throw new Error('failover needs at least one provider')
    this.#entries = providers.map((provider) => ({ provider, circuit: new Circuit(o.circuitThreshold, o.circuitCooldownMs, o.now) }))
    this.#deadlines = new CallDeadlines(o.timeoutMs)
  }

  get names(): string[] { return this.#entries.map((e) => e.provider.name) }
  get size(): number { return this.#entries.length }
  /** Whether the provider of this name reports delivery receipts. */
  reportsReceipts(name: string): boolean { return this.#entries.some((e) => e.provider.name === name && e.provider.receipts === true) }
  circuit(name: string): Circuit | undefined { return this.#entries.find((e) => e.provider.name === name)?.circuit }

  /** Each provider and whether its circuit is open (for the metrics gauge). */
  openCircuits(): Array<{ provider: string, open: boolean }> {
    return this.#entries.map((e) => ({ provider: e.provider.name, open: e.circuit.state === 'open' }))
  }

  /** Whether some provider's circuit would admit a call now. */
  admitsCall(): boolean { return this.#entries.some((e) => e.circuit.admits) }

  /**
   * While every provider's circuit is open: the earliest time one half-opens (epoch ms) and
   * the providers; undefined while any is closed or half-open.
   */
  allOpen(): { until: number, providers: string[] } | undefined {
    let until = Number.POSITIVE_INFINITY
    for (const { circuit } of this.#entries) {
      const at = circuit.halfOpensAt
      if (at === undefined) return undefined
      until = Math.min(until, at)
    }
    return { until, providers: this.names }
  }

  /** One round for a code message, making at most `maxCalls` provider calls. */
  async send(message: CodeMessage, maxCalls: number): Promise<RoundResult> {
    let calls = 0
    const tried: Attributed[] = []
    let last: Attributed = { kind: 'transient', error: 'every provider circuit is open', provider: '' }
    for (const { provider, circuit } of this.#entries) {
      if (calls >= maxCalls) break
      if (!circuit.tryAcquire()) continue
      calls++
      const outcome = await this.#call<SendOutcome>((signal) => provider.send(message, signal), transient)
      this.#record(provider.name, circuit, outcome)
      last = { ...outcome, provider: provider.name }
      tried.push(last)
      if (outcome.kind !== 'transient') break
    }
    return { outcome: last, calls, tried }
  }

  /** One round for a bulk message: numbers that failed transiently move on to the next provider. */
  async sendBulk(message: BulkMessage, maxCalls: number): Promise<BulkRoundResult> {
    const outcomes: Attributed[] = message.mobiles.map(() => ({ kind: 'transient', error: 'every provider circuit is open', provider: '' }))
    let pending = message.mobiles.map((_, i) => i)
    let calls = 0
    for (const { provider, circuit } of this.#entries) {
      if (pending.length === 0 || calls >= maxCalls) break
      if (!circuit.tryAcquire()) continue
      calls++
      const batch = { ...message, mobiles: pending.map((i) => message.mobiles[i]!) }
      const results = await this.#call((signal) => provider.sendBulk(batch, signal),
        (error, timeout): SendOutcome[] => batch.mobiles.map(() => transient(error, timeout)))
      const anyAnswer = results.some((r) => r.kind !== 'transient')
      if (anyAnswer) circuit.success(); else circuit.failure()
      const next: number[] = []
      pending.forEach((index, j) => {
        const r: SendOutcome = results[j] ?? { kind: 'transient', error: 'provider returned no outcome for this number' }
        outcomes[index] = { ...r, provider: provider.name }
        if (r.kind === 'transient') next.push(index)
      })
      pending = next
    }
    return { outcomes, calls }
  }

  #record(name: string, circuit: Circuit, outcome: SendOutcome) {
    if (outcome.kind === 'transient') circuit.failure(); else circuit.success()
  }

  /**
   * Runs one call under its deadline (shared with the calls that started about the same time,
   * see call-deadlines.ts). A provider that ignores the abort is still answered "transient" at
   * the deadline; the sender's lease outlasts the deadline so no other replica sends meanwhile.
   */
  #call<T>(fn: (signal: AbortSignal) => Promise<T>, failed: (error: string, timeout: boolean) => T): Promise<T> {
    const timedOut = `timeout after ${this.o.timeoutMs} ms`
    return new Promise<T>((resolve) => {
      const onTimeout = () => resolve(failed(timedOut, true))
      const slice = this.#deadlines.start(onTimeout)
      let p: Promise<T>
      try { p = fn(slice.signal) } catch (err) { p = Promise.reject(err) }
      p.then((value) => { slice.done(onTimeout); resolve(value) }, (err: unknown) => {
        slice.done(onTimeout)
        resolve(slice.signal.aborted ? failed(timedOut, true) : failed(errorText(err), false))
      })
    })
  }
}
