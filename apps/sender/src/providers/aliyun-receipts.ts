import { aliyunNumber, beijingTime, type E164 } from '@sms-verify/shared'
import type { Receipt } from '../provider.js'
import { raceAbort } from './abort.js'
import type * as Sdk from './aliyun-sdk.js'
import { beijingTimestamp } from './carrier-window.js'

/** What a pull needs of the lazily loaded SDK. */
export interface QueryClient {
  readonly client: Sdk.AliyunSmsClient
  readonly runtime: ReturnType<typeof Sdk.createAliyunClient>['runtime']
  readonly QuerySendDetailsRequest: typeof Sdk.QuerySendDetailsRequest
}

export interface PendingMessage {
  readonly requestId: string
  readonly mobile: E164
  readonly bizId: string | undefined
  readonly sentAt: number
}

/** Aliyun reports a message's fate within 72 hours; after that, stop asking. */
const GIVE_UP_MS = 72 * 3600_000
/** The most messages remembered; the oldest are dropped first (the callback is the main path). */
const MAX_PENDING = 100_000
/** Messages asked about per pull; the poller pulls again while a pull comes back full. */
export const ALIYUN_PULL_BATCH = 100
const CONCURRENCY = 8

/**
 * Code messages Aliyun accepted whose receipt has not come yet, in this sender
 * process. QuerySendDetails answers per number and day, not "what is new", so
 * the puller has to know what to ask for. Each is asked at most once per
 * poll interval, until it reads delivered or failed or 72 h have passed.
 */
export class AliyunPending {
  readonly #byRequest = new Map<string, PendingMessage & { dueAt: number }>()

  constructor(private readonly intervalMs: number) {}

  get size(): number { return this.#byRequest.size }

  add(m: PendingMessage): void {
    this.#byRequest.delete(m.requestId)
    this.#byRequest.set(m.requestId, { ...m, dueAt: m.sentAt })
    if (this.#byRequest.size > MAX_PENDING) this.#byRequest.delete(this.#byRequest.keys().next().value!)
  }

  /** Up to `limit` messages due now, oldest first; each is not due again for an interval. */
  due(now: number, limit: number): PendingMessage[] {
    const out: PendingMessage[] = []
    for (const [id, m] of this.#byRequest) {
      if (now - m.sentAt > GIVE_UP_MS) { this.#byRequest.delete(id); continue }
      if (m.dueAt > now) continue
      m.dueAt = now + this.intervalMs
      out.push(m)
      if (out.length >= limit) break
    }
    return out
  }

  settle(requestId: string): void { this.#byRequest.delete(requestId) }
}

/** SendStatus of a SmsSendDetailDTO: 1 waiting for the receipt, 2 failed, 3 delivered. */
const FAILED = 2
const DELIVERED = 3

/**
 * One QuerySendDetails per due message (by number, Beijing send date and BizId);
 * final ones become receipts keyed by OutId (the request id) and are forgotten.
 * A query that fails leaves its message for the next pull.
 */
export async function querySendDetails(sdk: QueryClient, pending: AliyunPending, signal: AbortSignal): Promise<Receipt[]> {
  const now = Date.now()
  const due = pending.due(now, ALIYUN_PULL_BATCH)
  const receipts: Receipt[] = []
  let next = 0
  const worker = async () => {
    while (next < due.length && !signal.aborted) {
      const m = due[next++]!
      const receipt = await queryOne(sdk, m, signal, now).catch(() => undefined)
      if (receipt) { receipts.push(receipt); pending.settle(m.requestId) }
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, due.length) }, worker))
  return receipts
}

async function queryOne({ client, runtime, QuerySendDetailsRequest }: QueryClient, m: PendingMessage, signal: AbortSignal, now: number): Promise<Receipt | undefined> {
  const request = new QuerySendDetailsRequest({
    phoneNumber: aliyunNumber(m.mobile),
    sendDate: beijingTimestamp(m.sentAt).slice(0, 8),
    pageSize: 10,
    currentPage: 1,
    ...(m.bizId ? { bizId: m.bizId } : {}),
  })
  const res = await raceAbort(client.querySendDetailsWithOptions(request, runtime), signal)
  if (res.body?.code !== 'OK') return undefined
  const details = res.body.smsSendDetailDTOs?.smsSendDetailDTO ?? []
  const detail = details.find((d) => d.outId === m.requestId) ?? (m.bizId ? details[0] : undefined)
  if (!detail || (detail.sendStatus !== FAILED && detail.sendStatus !== DELIVERED)) return undefined
  const delivered = detail.sendStatus === DELIVERED
  return {
    provider: 'aliyun',
    messageId: m.requestId,
    mobile: m.mobile,
    delivered,
    ...(!delivered && detail.errCode ? { reason: detail.errCode } : {}),
    at: beijingTime(detail.receiveDate, now),
  }
}
