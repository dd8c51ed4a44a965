type Arg = string | number

/** receipt.lua's KEYS and ARGV, in its header's order. */
export interface ReceiptInput {
  /** keys.serial: the provider's message id → request id */
  readonly serial: string
  readonly now: number
  readonly delivered: boolean
  /** the carrier's reason ('' for none) */
  readonly reason: string
  /** keys.requestPrefix of the serial's partition: the script learns the request id from the serial */
  readonly requestPrefix: string
}

/** applied: the record moved on; final: it had already ended (a timestamp was added); unknown: no such message */
export type ReceiptResult = 'applied' | 'final' | 'unknown'

/** The one place that knows receipt.lua's positions and reply shape. */
export const receiptScript = {
  args: (i: ReceiptInput): Arg[] => [i.serial, i.now, i.delivered ? '1' : '0', i.reason, i.requestPrefix],
  reply: (r: unknown): { result: ReceiptResult, queuedAt?: number } => {
    const [code, queuedAt] = r as [number, string]
    const result: ReceiptResult = code === 1 ? 'applied' : code === -1 ? 'final' : 'unknown'
    return queuedAt ? { result, queuedAt: Number(queuedAt) } : { result }
  },
}
