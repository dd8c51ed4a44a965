/**
 * A per-provider circuit breaker: `threshold` consecutive transient failures
 * open it; after `cooldownMs` it lets exactly one trial call through
 * (half-open); that call's success closes it, its failure opens it again.
 * Per process: each sender learns on its own calls.
 */
export type CircuitState = 'closed' | 'open' | 'half-open'

export class Circuit {
  #failures = 0
  #openedAt = 0
  #trialInFlight = false
  #state: CircuitState = 'closed'

  constructor(
    private readonly threshold: number,
    private readonly cooldownMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): CircuitState {
    if (this.#state === 'open' && this.now() - this.#openedAt >= this.cooldownMs) this.#state = 'half-open'
    return this.#state
  }

  /** While open: when it half-opens (epoch ms); undefined otherwise. */
  get halfOpensAt(): number | undefined {
    return this.state === 'open' ? this.#openedAt + this.cooldownMs : undefined
  }

  /** Whether tryAcquire would admit a call now, without taking the trial. */
  get admits(): boolean {
    const state = this.state
    return state === 'closed' || (state === 'half-open' && !this.#trialInFlight)
  }

  /** Whether a call may go through now; a half-open circuit admits one trial. */
  tryAcquire(): boolean {
    const state = this.state
    if (state === 'closed') return true
    if (state === 'half-open' && !this.#trialInFlight) {
      this.#trialInFlight = true
      return true
    }
    return false
  }

  /** The provider answered (accepted, or refused this message): it is up. */
  success(): void {
    this.#failures = 0
    this.#trialInFlight = false
    this.#state = 'closed'
  }

  failure(): void {
    this.#failures++
    const wasTrial = this.#trialInFlight
    this.#trialInFlight = false
    if (wasTrial || this.#state === 'half-open' || this.#failures >= this.threshold) {
      this.#state = 'open'
      this.#openedAt = this.now()
    }
  }
}
