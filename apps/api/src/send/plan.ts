// Owns what one send asks of Redis, all decided before any I/O: the request id, the code, and
// send.lua's per-mobile keys and arguments (from which the script writes the job). Which client
// runs it is the modes' business.
import {
  codeHmac, generateCode, newRequestId, partitionIndexOf, seal, sendScript, type E164, type Purpose, type SendKeys,
} from '@sms-verify/shared'
import type { ApiContext } from '../context.js'
import { fingerprint, idempotencyKeyHash } from '../idempotency.js'

export interface SendRequest {
  readonly mobile: E164
  readonly purpose: Purpose
  /** the client key (client-key.ts) every per-IP limit counts under */
  readonly client: string
  readonly idempotencyKey?: string | undefined
}

export interface SendPlan {
  readonly mobile: E164
  readonly purpose: Purpose
  readonly client: string
  readonly now: number
  readonly requestId: string
  /** a TEST_NUMBERS mobile: its fixed code, no job sent, no WAIT, outside the budget */
  readonly testNumber: boolean
  /** with an Idempotency-Key: the key as stored (hashed) and what "the same request" means */
  readonly idempotency: { readonly keyHash: string, readonly fingerprint: string } | undefined
  /** send.lua's seven per-mobile keys, all on the mobile's slot; standalone adds the global three */
  readonly slotKeys: SendKeys
  /** send.lua's ARGV (sendScript.args) */
  readonly args: readonly string[]
}

export function planSend(ctx: ApiContext, request: SendRequest): SendPlan {
  const { config } = ctx
  const { mobile, purpose, client } = request
  const now = ctx.now()
  const p = partitionIndexOf(mobile, ctx.partitions.length)
  const k = ctx.partitions[p]!
  const requestId = newRequestId(p)
  const testCode = config.TEST_NUMBERS.get(mobile)
  const code = testCode ?? generateCode(config.CODE_LENGTH)
  const idempotency = request.idempotencyKey === undefined
    ? undefined
    : { keyHash: idempotencyKeyHash(request.idempotencyKey), fingerprint: fingerprint(mobile, purpose) }
  const slotKeys: SendKeys = {
    number: k.number(mobile), request: k.request(requestId), stream: k.jobs, idempotency: k.idempotency(idempotency?.keyHash ?? '-'),
  }
  const args = sendScript.args(ctx.sendSettings, {
    now, requestId, mobile, purpose, codeHmac: codeHmac(ctx.pepper, mobile, purpose, code),
    idempotencyFingerprint: idempotency?.fingerprint ?? '', testNumber: testCode !== undefined, client,
    jobCode: ctx.sealKey ? { sealed: seal(ctx.sealKey, code, requestId) } : { code },
  })
  return { mobile, purpose, client, now, requestId, testNumber: testCode !== undefined, idempotency, slotKeys, args }
}
