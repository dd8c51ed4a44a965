import type { FastifyBaseLogger } from 'fastify'
import type { Cluster } from 'ioredis'
import {
  codeHmac, countScript, encodeJob, generateCode, globalKeys, HOUR_MS, IDEMPOTENCY_TTL_MS, MINUTE_MS, newRequestId,
  parseMobile, partitionIndexOf, seal, sendScript, windowScript, type E164, type Purpose, type RedisClient,
} from '@sms-verify/shared'
import type { ApiContext } from './context.js'
import { errors, refusal, type ApiError } from './errors.js'
import { fingerprint, idempotencyKeyHash } from './idempotency.js'
import type { LoggedRequest } from './plugins/access-log.js'
import type { Metrics } from './plugins/metrics.js'

export interface SendInput {
  readonly mobile: string
  readonly purpose: Purpose
  /** the client key (client-key.ts) every per-IP limit counts under */
  readonly client: string
  readonly idempotencyKey?: string | undefined
}

export interface Accepted {
  readonly requestId: string
  /** seconds */
  readonly expiresIn: number
  readonly resendIn: number
}

type Reply = (string | number)[]
type Pipeline = ReturnType<RedisClient['pipeline']>

/** send.lua's stored Idempotency-Key answer, as the script itself would reply to a repeat. */
function storedAnswer(stored: string | null, requestFingerprint: string): Reply | undefined {
  if (stored === null) return undefined
  const record = JSON.parse(stored) as { f: string, r: Reply }
  return record.f === requestFingerprint ? ['replay', JSON.stringify(record.r)] : ['idempotency_mismatch']
}

/** The number a person typed → E.164 of an allowed region, or the 400 that says why not. */
export function admitMobile(input: string, allowedRegions: readonly string[]): E164 {
  const parsed = parseMobile(input)
  if (!parsed.ok) throw errors.invalidMobile()
  if (parsed.region === undefined || !allowedRegions.includes(parsed.region)) throw errors.regionNotAllowed()
  return parsed.e164
}

/**
 * The send path shared by `POST /v1/sms-codes` and the legacy route: one
 * send.lua call (standalone) decides cooldown, limits, idempotency and queues
 * the job. Created once per app, so the budget warning is rate-limited per process.
 */
export function codeSender(redis: RedisClient, ctx: ApiContext, metrics: Metrics, waitRedis: RedisClient = redis) {
  const { config } = ctx
  const codeTtlMs = config.CODE_TTL_SECONDS * 1000
  let budgetWarnedAt = -Infinity

  /** 'ok' reply → the 202 body; replays recompute the same numbers from the stored reply. */
  function accepted(reply: Reply): Accepted {
    const [, requestId, expiresAt, resendAt] = reply as [string, string, number, number]
    const sentAt = Number(expiresAt) - codeTtlMs
    return { requestId, expiresIn: config.CODE_TTL_SECONDS, resendIn: Math.max(0, Math.ceil((Number(resendAt) - sentAt) / 1000)) }
  }

  function interpret(reply: Reply, log: FastifyBaseLogger, fresh: boolean, purpose: Purpose): Accepted {
    const [verdict] = reply
    if (verdict === 'ok') {
      if (fresh) metrics.issued.inc({ purpose })
      return accepted(reply)
    }
    if (verdict === 'replay') return interpret(JSON.parse(String(reply[1])) as Reply, log, false, purpose)
    const reason = String(verdict)
    if (fresh) metrics.refused.inc({ reason })
    if (reason === 'budget_exhausted' && Date.now() - budgetWarnedAt >= MINUTE_MS) {
      budgetWarnedAt = Date.now()
      log.warn({ budgetPerMinute: config.SMS_BUDGET_PER_MINUTE }, 'SMS budget exhausted: refusing sends')
    }
    throw refusal(reason, Number(reply[1] ?? 1000))
  }

  /**
   * send.lua followed by WAIT. WAIT counts the writes of its own connection, so it goes in one
   * pipeline right behind the script: same connection, same master (a pipeline in a cluster goes
   * to its slot's node), still one round trip. A dedicated client keeps a slow WAIT from holding
   * up other routes.
   */
  async function scriptThenWait(call: (pipe: Pipeline) => unknown, requestId: string, log: FastifyBaseLogger): Promise<Reply> {
    const attempt = async () => {
      const pipe = waitRedis.pipeline()
      call(pipe)
      pipe.wait(config.REDIS_WAIT_REPLICAS, config.REDIS_WAIT_TIMEOUT_MS)
      return await pipe.exec() as [[Error | null, Reply], [Error | null, number]]
    }
    let results = await attempt()
    // After a failover the script's node answers MOVED (the script did not run there). ioredis
    // does not follow a redirect that only part of a pipeline got, so refresh the map and retry once.
    if (ctx.cluster && results[0][0] && /^(MOVED|ASK) /.test(results[0][0].message)) {
      await new Promise<void>((resolve) => { (waitRedis as Cluster).refreshSlotsCache(() => resolve()) })
      results = await attempt()
    }
    const [[scriptErr, scriptReply], [waitErr, replicas]] = results
    if (scriptErr) throw scriptErr
    // A replay is held to the same promise: its 202 must not come before replicas hold the job.
    const accepting = scriptReply[0] === 'ok' || scriptReply[0] === 'replay'
    if (accepting && (waitErr || replicas < config.REDIS_WAIT_REPLICAS)) {
      log.warn({ requestId, replicas: waitErr ? 0 : replicas, wanted: config.REDIS_WAIT_REPLICAS }, 'send not confirmed by replicas in time')
      throw errors.unavailable()
    }
    return scriptReply
  }

  /** The access line of `request` carries the outcome: `code queued`, `test code issued` or `code refused`. */
  return async function send(input: SendInput, request: LoggedRequest): Promise<Accepted> {
    const { log } = request
    let mobile: E164
    try {
      mobile = admitMobile(input.mobile, config.ALLOWED_REGIONS)
    } catch (err) {
      metrics.refused.inc({ reason: (err as ApiError).error })
      throw err
    }
    const { purpose } = input
    const now = ctx.now()
    const p = partitionIndexOf(mobile, ctx.partitions.length)
    const k = ctx.partitions[p]!
    const requestId = newRequestId(p)
    const testCode = config.TEST_NUMBERS.get(mobile)
    const code = testCode ?? generateCode(config.CODE_LENGTH)
    const idem = input.idempotencyKey === undefined ? undefined : idempotencyKeyHash(input.idempotencyKey)
    const requestFingerprint = idem === undefined ? '' : fingerprint(mobile, purpose)
    const job = encodeJob({
      v: 1, kind: 'code', requestId, mobile, purpose,
      ...(ctx.sealKey ? { sealed: seal(ctx.sealKey, code, requestId) } : { code }),
      createdAt: now, expiresAt: now + codeTtlMs, attempts: 0,
    })
    const budget = config.SMS_BUDGET_PER_MINUTE ?? 0
    const slotKeys = {
      cooldown: k.cooldown(mobile, purpose), code: k.code(mobile, purpose), daily: k.daily(mobile), carrierBlock: k.carrierBlock(mobile),
      request: k.request(requestId), stream: k.jobs, idempotency: k.idempotency(idem ?? '-'),
    }
    const argv = sendScript.args({
      now, requestId, mobile, purpose, codeHmac: codeHmac(ctx.pepper, mobile, purpose, code), codeTtlMs,
      resendIntervalMs: config.RESEND_INTERVAL_SECONDS * 1000, dailyLimit: config.SMS_DAILY_LIMIT_PER_MOBILE,
      statusTtlMs: codeTtlMs + config.STATUS_TTL_SECONDS * 1000,
      idempotencyFingerprint: requestFingerprint, idempotencyTtlMs: IDEMPOTENCY_TTL_MS, testNumber: testCode !== undefined,
      streamCap: config.STREAM_MAXLEN, requestPrefix: k.requestPrefix, ipLimitPerHour: config.SEND_LIMIT_PER_IP_PER_HOUR, budgetPerMinute: budget,
      requestLimit: config.RATE_LIMIT_PER_MINUTE, requestWindowMs: MINUTE_MS, client: input.client, job,
    })

    const call = (c: RedisClient | Pipeline) => ctx.cluster
      // smsSendSharded: send.lua with a fixed key count, so ioredis Cluster routes it by KEYS[1]
      ? c.smsSendSharded(...sendScript.keys(slotKeys), ...argv)
      : c.smsSend(10, ...sendScript.keys({ ...slotKeys, ipSends: globalKeys.ipSends(input.client), budget: globalKeys.budget, requestCounter: globalKeys.requestCounter(input.client) }), ...argv)
    const runScript = (): Promise<Reply> => config.REDIS_WAIT_REPLICAS > 0 && testCode === undefined
      ? scriptThenWait(call, requestId, log)
      : call(redis) as Promise<Reply>

    let reply: Reply
    if (!ctx.cluster) {
      reply = await runScript()
    } else {
      // Cluster: the per-IP and budget windows and the general per-IP request counter live on other
      // slots, so they cannot join send.lua.
      // Order: (1) count the request and reserve a place in both windows, in parallel (member = request id);
      // (2) if either refuses, ZREM the place the other took and answer the refusal;
      // (3) run send.lua on the mobile's slot; (4) if it answers a refusal, ZREM both places.
      // An error in (3) refunds nothing: the script may have run, so the place stays taken.
      // A crash between (1) and (4) keeps a place until the window slides past it: the error
      // is towards refusing a send, never towards sending more than the limits allow.
      const windows: Array<[key: string, windowMs: number, limit: number, reason: string]> = [[globalKeys.ipSends(input.client), HOUR_MS, config.SEND_LIMIT_PER_IP_PER_HOUR, 'rate_limited']]
      if (budget > 0 && testCode === undefined) windows.push([globalKeys.budget, MINUTE_MS, budget, 'budget_exhausted'])
      const [counted, ...taken] = await Promise.all([
        redis.smsCount(...countScript.args({ counter: globalKeys.requestCounter(input.client), limit: config.RATE_LIMIT_PER_MINUTE, windowMs: MINUTE_MS }))
          .then(countScript.reply),
        ...windows.map(([window, windowMs, limit]) => redis.smsWindow(...windowScript.args({ window, now, windowMs, limit, member: requestId }))
          .then(windowScript.reply)),
      ])
      const refund = () => Promise.all(windows.filter((_, i) => taken[i]!.ok).map(([key]) => redis.zrem(key, requestId)))
      const refused = taken.findIndex((r) => !r.ok)
      if (!counted.ok || refused !== -1) {
        await refund()
        reply = !counted.ok ? ['rate_limited', counted.retryAfterMs] : [windows[refused]![3], taken[refused]!.retryAfterMs]
        // A repeat of an accepted request must get its first answer, not this window's refusal.
        // The stored answer lives on the mobile's slot: one more round trip, only on this path.
        if (idem !== undefined) reply = storedAnswer(await redis.get(k.idempotency(idem)), requestFingerprint) ?? reply
      } else {
        reply = await runScript()
        if (reply[0] !== 'ok') await refund()
      }
    }

    try {
      const result = interpret(reply, log, true, purpose)
      request.logEvent = {
        event: testCode === undefined ? 'code queued' : 'test code issued',
        mobile, purpose, requestId: result.requestId, replay: reply[0] === 'replay',
      }
      return result
    } catch (err) {
      request.logEvent = { event: 'code refused', mobile, purpose, reason: (err as ApiError).error }
      throw err
    }
  }
}
export type CodeSender = ReturnType<typeof codeSender>
