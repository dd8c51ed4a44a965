import { DELIVERY_LATENCY_METRIC, RECEIPTS_METRIC, deliveryLatencySeconds, receiptLabels, type ReceiptResult } from '@sms-verify/shared'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** Where the stream gauges come from, read only when Prometheus scrapes. */
export interface StreamSample { partition: number, length: number, pending: number, /** null when XINFO cannot tell (then the gauge is absent, not 0) */ lag: number | null }

export class SenderMetrics {
  readonly registry = new Registry()
  readonly sends = new Counter({ name: 'sms_sends_total', help: 'provider calls by provider and outcome', labelNames: ['provider', 'outcome'] as const, registers: [this.registry] })
  readonly retries = new Counter({ name: 'sms_send_retries_total', help: 'jobs scheduled for a retry after a transient failure', registers: [this.registry] })
  readonly deadLetters = new Counter({ name: 'sms_dead_letters_total', help: 'jobs dead-lettered, by reason', labelNames: ['reason'] as const, registers: [this.registry] })
  readonly expired = new Counter({ name: 'sms_jobs_expired_total', help: 'jobs acked unsent because their code had expired', registers: [this.registry] })
  readonly enqueueToAccepted = new Histogram({
    name: 'sms_enqueue_to_accepted_seconds', help: 'from the API queueing a job to a provider accepting it',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300], registers: [this.registry],
  })
  readonly receipts = new Counter({ ...RECEIPTS_METRIC, registers: [this.registry] })
  readonly enqueueToDelivered = new Histogram({ ...DELIVERY_LATENCY_METRIC, registers: [this.registry] })
  readonly putBack = new Counter({
    name: 'sms_jobs_put_back_total', help: 'jobs put back without a provider call because every circuit was open (not counted as attempts)', registers: [this.registry],
  })
  #sampler: (() => Promise<StreamSample[]>) | undefined
  #circuits: (() => Array<{ provider: string, open: boolean }>) | undefined

  constructor() {
    // The event-loop-lag sampler wakes the process at this precision; prom-client's 10 ms default alone costs ~1% of a core when idle.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 200 })
    const metrics = this
    const gauge = (name: string, help: string, pick: (s: StreamSample) => number | null) => new Gauge({
      name, help, labelNames: ['partition'] as const, registers: [this.registry],
      async collect() {
        const samples = await metrics.#sample()
        this.reset()
        for (const s of samples) {
          const value = pick(s)
          if (value !== null) this.set({ partition: String(s.partition) }, value)
        }
      },
    })
    new Gauge({
      name: 'sms_provider_circuit_open', help: "1 while the provider's circuit breaker in this sender is open (no calls until it half-opens), else 0",
      labelNames: ['provider'] as const, registers: [this.registry],
      collect() {
        this.reset()
        for (const c of metrics.#circuits?.() ?? []) this.set({ provider: c.provider }, c.open ? 1 : 0)
      },
    })
    gauge('sms_stream_length', 'entries in the partition stream (XLEN)', (s) => s.length)
    gauge('sms_stream_pending', 'entries delivered to a sender and not yet acked (XPENDING)', (s) => s.pending)
    gauge('sms_stream_lag', 'entries not yet delivered to any sender (XINFO GROUPS lag)', (s) => s.lag)
  }

  /** For the receipt poller: one receipt and what applying it did. */
  observeReceipt(r: { provider: string, delivered: boolean, at: number }, result: ReceiptResult, queuedAt?: number): void {
    this.receipts.inc(receiptLabels(r.provider, result, r.delivered ? 'delivered' : 'undelivered'))
    const seconds = deliveryLatencySeconds(r, result, queuedAt)
    if (seconds !== undefined) this.enqueueToDelivered.observe({ provider: r.provider }, seconds)
  }

  /** The sender plugs in its failover's circuits, read on scrape. */
  setCircuits(circuits: () => Array<{ provider: string, open: boolean }>): void { this.#circuits = circuits }

  /** The sender plugs in its stream reader; one scrape samples Redis once for all three gauges. */
  setSampler(sampler: () => Promise<StreamSample[]>): void { this.#sampler = sampler }

  #pendingSample: Promise<StreamSample[]> | undefined
  #sample(): Promise<StreamSample[]> {
    if (!this.#sampler) return Promise.resolve([])
    this.#pendingSample ??= this.#sampler().catch(() => []).finally(() => { setImmediate(() => { this.#pendingSample = undefined }) })
    return this.#pendingSample
  }
}
