// Owns the order of a send and what it tells the outside: admit the number, plan, run the plan in
// the deployment's mode (standalone.ts or cluster.ts), then turn the reply into the 202 body or
// the refusal, with its metrics and the access line's event. Shared by POST /v1/sms-codes and
// the legacy route.
import type { FastifyBaseLogger } from 'fastify'
import { defineSendScript, MINUTE_MS, type E164, type Purpose, type RedisClient } from '@sms-verify/shared'
import { admitMobile } from '../admit-mobile.js'
import type { ApiContext } from '../context.js'
import { refusal, type ApiError } from '../errors.js'
import type { LoggedRequest } from '../plugins/access-log.js'
import type { Metrics } from '../plugins/metrics.js'
import type { SendAccepted } from '../schemas.js'
import { sendClustered } from './cluster.js'
import { planSend, type SendPlan, type SendRequest } from './plan.js'
import { acceptedBody, readSendReply, type SendOutcome, type SendReply } from './reply.js'
import { sendScriptRunner } from './script.js'
import { sendStandalone } from './standalone.js'

/** A send as a route hands it over: the mobile as the person typed it. */
export type SendInput = Omit<SendRequest, 'mobile'> & { readonly mobile: string }

/** Created once per app, so the budget warning is rate-limited per process. */
export function codeSender(redis: RedisClient, ctx: ApiContext, metrics: Metrics, waitRedis: RedisClient = redis) {
  const { config } = ctx
  const run = sendScriptRunner(redis, ctx, waitRedis)
  const script = defineSendScript(waitRedis === redis ? [redis] : [redis, waitRedis], ctx.sendSettings)
  const runPlan: (plan: SendPlan, log: FastifyBaseLogger) => Promise<SendReply> = ctx.cluster
    ? (plan, log) => sendClustered(redis, config, run, script, plan, log)
    : (plan, log) => sendStandalone(run, script, plan, log)
  let budgetWarnedAt = -Infinity

  /** The 202 body, or the refusal thrown; a replay counts in no metric, its first answer did. */
  function answer(outcome: SendOutcome, purpose: Purpose, log: FastifyBaseLogger): SendAccepted {
    if (outcome.kind === 'accepted') {
      if (!outcome.replay) metrics.issued.inc({ purpose })
      return acceptedBody(outcome, config.CODE_TTL_SECONDS)
    }
    if (!outcome.replay) metrics.refused.inc({ reason: outcome.reason })
    if (outcome.reason === 'budget_exhausted' && Date.now() - budgetWarnedAt >= MINUTE_MS) {
      budgetWarnedAt = Date.now()
      log.warn({ budgetPerMinute: config.SMS_BUDGET_PER_MINUTE }, 'SMS budget exhausted: refusing sends')
    }
    throw refusal(outcome.reason, outcome.retryAfterMs)
  }

  /** The access line of `request` carries the outcome: `code queued`, `test code issued` or `code refused`. */
  return async function send(input: SendInput, request: LoggedRequest): Promise<SendAccepted> {
    const { log } = request
    let mobile: E164
    try {
      mobile = admitMobile(input.mobile, config.ALLOWED_REGIONS)
    } catch (err) {
      metrics.refused.inc({ reason: (err as ApiError).error })
      throw err
    }
    const plan = planSend(ctx, { ...input, mobile })
    const reply = await runPlan(plan, log)
    const { purpose } = plan
    try {
      const outcome = readSendReply(reply)
      const body = answer(outcome, purpose, log)
      request.logEvent = {
        event: plan.testNumber ? 'test code issued' : 'code queued',
        mobile, purpose, requestId: body.requestId, replay: outcome.replay,
      }
      return body
    } catch (err) {
      request.logEvent = { event: 'code refused', mobile, purpose, reason: (err as ApiError).error }
      throw err
    }
  }
}
export type CodeSender = ReturnType<typeof codeSender>
