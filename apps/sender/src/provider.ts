import type { DeliveryReceipt, E164, Purpose } from '@sms-verify/shared'

/**
 * What a provider adapter reports for one message. The adapter translates
 * every vendor answer into one of these; the sender looks at nothing else.
 */
export type SendOutcome =
  | { kind: 'accepted', messageId: string, fee?: number }
  /**
   * network error, timeout, the provider's internal or throttling errors: retry.
   * `timeout` marks a call cut off at PROVIDER_TIMEOUT_MS (set by the failover
   * chain): it may still reach the phone, so its lease is kept until it expires.
   */
  | { kind: 'transient', error: string, timeout?: true }
  /** bad number, template, signature or credentials: never retried */
  | { kind: 'permanent', error: string }
  /** the carrier refuses this number until `blockedUntil` (epoch ms): not retried */
  | { kind: 'carrier_limit', error: string, blockedUntil: number }

export interface CodeMessage {
  readonly requestId: string
  readonly mobile: E164
  readonly purpose: Purpose
  readonly code: string
  /** minutes the code stays valid, the template's second parameter */
  readonly minutesValid: number
}

export interface BulkMessage {
  readonly requestId: string
  /** at most 200 numbers */
  readonly mobiles: readonly E164[]
  readonly purpose?: Purpose
  readonly templateId?: string
  readonly params: readonly string[]
}

/** A delivery receipt, from a callback or a pull (one type with the API's callback routes). */
export type Receipt = DeliveryReceipt

/**
 * A channel to phones. Calls fail fast (the signal aborts at
 * PROVIDER_TIMEOUT_MS) and never retry by themselves: the queue retries.
 */
export interface Provider {
  readonly name: string
  /**
   * Delivery receipts come back for its messages (callback or pull): the sender keeps a
   * message id → request mapping for them. Without it, no mapping is written.
   */
  readonly receipts?: boolean
  /** resolves once the provider can send (its SDK loaded); main.ts awaits it before reading jobs */
  ready?(): Promise<void>
  send(message: CodeMessage, signal: AbortSignal): Promise<SendOutcome>
  /** one outcome per number, in the order of `message.mobiles` */
  sendBulk(message: BulkMessage, signal: AbortSignal): Promise<SendOutcome[]>
  /** receipts the provider holds for us, where it supports pulling them */
  pullReceipts?(signal: AbortSignal): Promise<Receipt[]>
}

/** An outcome with the provider that gave it (added for failover: the record names who delivered). */
export type Attributed<T = SendOutcome> = T & { readonly provider: string }
