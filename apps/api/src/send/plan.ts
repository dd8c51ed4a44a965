// Owns what one send asks of Redis, all decided before any I/O: the request id, the code, the
// job, and send.lua's per-mobile keys and arguments. Which client runs it is the modes' business.
import {
  codeHmac, encodeJob, generateCode, IDEMPOTENCY_TTL_MS, MINUTE_MS, newRequestId, partitionIndexOf, seal, sendScript,
  type E164, type Purpose, type SendKeys,
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
  /** send.lua's ARGV */
  readonly args: Array<string | number>
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
  const codeTtlMs = config.CODE_TTL_SECONDS * 1000
  const idempotency = request.idempotencyKey === undefined
    ? undefined
    : { keyHash: idempotencyKeyHash(request.idempotencyKey), fingerprint: fingerprint(mobile, purpose) }
  const job = encodeJob({
    v: 1, kind: 'code', requestId, mobile, purpose,
    ...(ctx.sealKey ? { sealed: seal(ctx.sealKey, code, requestId) } : { code }),
    createdAt: now, expiresAt: now + codeTtlMs, attempts: 0,
  })
  const slotKeys: SendKeys = {
    number: k.number(mobile), request: k.request(requestId), stream: k.jobs, idempotency: k.idempotency(idempotency?.keyHash ?? '-'),
  }
  const args = sendScript.args({
    now, requestId, mobile, purpose, codeHmac: codeHmac(ctx.pepper, mobile, purpose, code), codeTtlMs,
    resendIntervalMs: config.RESEND_INTERVAL_SECONDS * 1000, dailyLimit: config.SMS_DAILY_LIMIT_PER_MOBILE,
    statusTtlMs: codeTtlMs + config.STATUS_TTL_SECONDS * 1000,
    idempotencyFingerprint: idempotency?.fingerprint ?? '', idempotencyTtlMs: IDEMPOTENCY_TTL_MS, testNumber: testCode !== undefined,
    streamCap: config.STREAM_MAXLEN, requestPrefix: k.requestPrefix, ipLimitPerHour: config.SEND_LIMIT_PER_IP_PER_HOUR,
    budgetPerMinute: config.SMS_BUDGET_PER_MINUTE ?? 0,
    requestLimit: config.RATE_LIMIT_PER_MINUTE, requestWindowMs: MINUTE_MS, client, job,
  })
  return { mobile, purpose, client, now, requestId, testNumber: testCode !== undefined, idempotency, slotKeys, args }
}
