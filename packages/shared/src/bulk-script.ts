type Arg = string | number

/** bulk.lua's KEYS, in its header's order. */
export interface BulkKeys {
  readonly request: string
  readonly stream: string
  /** keys.idempotency: untouched when the request has no Idempotency-Key */
  readonly idempotency: string
}

/** bulk.lua's ARGV, in its header's order. */
export interface BulkArgs {
  readonly now: number
  readonly requestId: string
  /** '' when the request has no Idempotency-Key */
  readonly idempotencyFingerprint: string
  readonly idempotencyTtlMs: number
  readonly statusTtlMs: number
  /** numbers queued, test numbers included */
  readonly recipients: number
  readonly streamCap: number
  /** the 202 body to remember for the Idempotency-Key, JSON */
  readonly answer: string
  readonly expiresAt: number
  /** results of the test numbers among the recipients, which never reach a provider ({} = none) */
  readonly testResults: Readonly<Record<string, { readonly status: string, readonly provider: string }>>
  /** encodeJob's fields of each job, for XADD */
  readonly jobs: ReadonlyArray<readonly string[]>
}

export type BulkResult =
  | { readonly kind: 'ok', readonly requestId: string }
  | { readonly kind: 'backlog_full', readonly retryAfterMs: number }
  | { readonly kind: 'idempotency_mismatch' }
  /** a repeat of an Idempotency-Key: the first answer, JSON */
  | { readonly kind: 'replay', readonly answer: string }

/** The one place that knows bulk.lua's positions and reply shapes. */
export const bulkScript = {
  keys: (k: BulkKeys): string[] => [k.request, k.stream, k.idempotency],
  args: (a: BulkArgs): Arg[] => [
    a.now, a.requestId, a.idempotencyFingerprint, a.idempotencyTtlMs, a.statusTtlMs, a.recipients, a.streamCap, a.answer, a.expiresAt,
    Object.keys(a.testResults).length > 0 ? JSON.stringify(a.testResults) : '',
    a.jobs.length,
    ...a.jobs.flatMap((fields) => [fields.length, ...fields]),
  ],
  reply: (r: unknown): BulkResult => {
    const [kind, value] = r as [string, string | number | undefined]
    switch (kind) {
      case 'ok': return { kind, requestId: String(value) }
      case 'backlog_full': return { kind, retryAfterMs: Number(value) }
      case 'idempotency_mismatch': return { kind }
      case 'replay': return { kind, answer: String(value) }
      default: throw new Error(`bulk.lua answered ${String(kind)}`)
    }
  },
}
