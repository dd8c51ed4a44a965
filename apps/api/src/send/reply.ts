// Owns the meaning of send.lua's reply (its header lists them): an acceptance, a refusal, or
// either one replayed for a repeated Idempotency-Key. No I/O.
import type { SendAccepted } from '../schemas.js'

/** send.lua's reply as it comes off the wire. */
export type SendReply = Array<string | number>

export type SendOutcome =
  | { readonly kind: 'accepted', readonly requestId: string, readonly expiresAt: number, readonly resendAt: number, readonly replay: boolean }
  | { readonly kind: 'refused', readonly reason: string, readonly retryAfterMs: number, readonly replay: boolean }

export function readSendReply(reply: SendReply): SendOutcome {
  const [verdict, ...rest] = reply
  if (verdict === 'replay') return { ...readSendReply(JSON.parse(String(rest[0])) as SendReply), replay: true }
  if (verdict === 'ok') {
    const [requestId, expiresAt, resendAt] = rest
    return { kind: 'accepted', requestId: String(requestId), expiresAt: Number(expiresAt), resendAt: Number(resendAt), replay: false }
  }
  return { kind: 'refused', reason: String(verdict), retryAfterMs: Number(rest[0] ?? 1000), replay: false }
}

/** An acceptance → the 202 body; a replay recomputes the same numbers from the stored reply. */
export function acceptedBody(accepted: Extract<SendOutcome, { kind: 'accepted' }>, codeTtlSeconds: number): SendAccepted {
  const sentAt = accepted.expiresAt - codeTtlSeconds * 1000
  return {
    requestId: accepted.requestId,
    expiresIn: codeTtlSeconds,
    resendIn: Math.max(0, Math.ceil((accepted.resendAt - sentAt) / 1000)),
  }
}
