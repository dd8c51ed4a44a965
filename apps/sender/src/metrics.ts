import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** Where the stream gauges come from, read only when Prometheus scrapes. */
export interface StreamSample { partition: number, length: number, pending: number, lag: number }

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
  #sampler: (() => Promise<StreamSample[]>) | undefined

  constructor() {
    collectDefaultMetrics({ register: this.registry })
    const metrics = this
    const gauge = (name: string, help: string, pick: (s: StreamSample) => number) => new Gauge({
      name, help, labelNames: ['partition'] as const, registers: [this.registry],
      async collect() {
        const samples = await metrics.#sample()
        this.reset()
        for (const s of samples) this.set({ partition: String(s.partition) }, pick(s))
      },
    })
    gauge('sms_stream_length', 'entries in the partition stream (XLEN)', (s) => s.length)
    gauge('sms_stream_pending', 'entries delivered to a sender and not yet acked (XPENDING)', (s) => s.pending)
    gauge('sms_stream_lag', 'entries not yet delivered to any sender (XINFO GROUPS lag)', (s) => s.lag)
  }

  /** The sender plugs in its stream reader; one scrape samples Redis once for all three gauges. */
  setSampler(sampler: () => Promise<StreamSample[]>): void { this.#sampler = sampler }

  #pendingSample: Promise<StreamSample[]> | undefined
  #sample(): Promise<StreamSample[]> {
    if (!this.#sampler) return Promise.resolve([])
    this.#pendingSample ??= this.#sampler().catch(() => []).finally(() => { setImmediate(() => { this.#pendingSample = undefined }) })
    return this.#pendingSample
  }
}
