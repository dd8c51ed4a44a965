// Owns standalone mode: every key lives on one server, so send.lua also takes the per-IP send
// window, the budget and the per-IP request counter, and decides the whole send in one EVALSHA.
import type { FastifyBaseLogger } from 'fastify'
import { globalKeys, sendScript, type ScriptCall } from '@sms-verify/shared'
import type { SendPlan } from './plan.js'
import type { SendReply } from './reply.js'
import type { RunSendScript } from './script.js'

export function sendStandalone(run: RunSendScript, script: ScriptCall, plan: SendPlan, log: FastifyBaseLogger): Promise<SendReply> {
  const keys = sendScript.keys({
    ...plan.slotKeys,
    ipSends: globalKeys.ipSends(plan.client), budget: globalKeys.budget, requestCounter: globalKeys.requestCounter(plan.client),
  })
  return run((c) => script(c, keys, plan.args), plan, log)
}
