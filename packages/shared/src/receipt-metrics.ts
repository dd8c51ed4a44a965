import type { ReceiptResult } from './receipt-script.js'

/**
 * The delivery-receipt metrics, one definition for both places that apply receipts: the API's
 * callback routes (pushed) and the sender's poller (pulled). Each process builds them with its
 * own prom-client registry: `new Counter({ ...RECEIPTS_METRIC, registers })`.
 */
export const RECEIPTS_METRIC = {
  name: 'sms_receipts_total',
  help: 'delivery receipts by provider, result (applied, final, unknown) and the state they report (delivered, undelivered; unreadable: no number or message id)',
  labelNames: ['provider', 'result', 'state'] as const,
}

export const DELIVERY_LATENCY_METRIC = {
  name: 'sms_enqueue_to_delivered_seconds',
  help: 'from queueing a send to the carrier reporting it delivered',
  labelNames: ['provider'] as const,
  buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 900],
}

export type ReceiptState = 'delivered' | 'undelivered' | 'unreadable'

/** RECEIPTS_METRIC's labels for one receipt. */
export function receiptLabels(provider: string, result: ReceiptResult, state: ReceiptState): { provider: string, result: ReceiptResult, state: ReceiptState } {
  return { provider, result, state }
}

/** Seconds from queueing to delivery, for an applied delivered receipt whose request's queue time is known; else undefined. */
export function deliveryLatencySeconds(r: { delivered: boolean, at: number }, result: ReceiptResult, queuedAt: number | undefined): number | undefined {
  if (!r.delivered || result !== 'applied' || !queuedAt) return undefined
  return Math.max(0, r.at - queuedAt) / 1000
}
