// Owns one send.lua round trip: on the command client, or, while replicas must hold the job
// before its 202 (REDIS_WAIT_REPLICAS), in one pipeline with WAIT right behind it.
import type { FastifyBaseLogger } from 'fastify'
import type { Cluster } from 'ioredis'
import type { RedisClient } from '@sms-verify/shared'
import type { ApiContext } from '../context.js'
import { errors } from '../errors.js'
import type { SendPlan } from './plan.js'
import type { SendReply } from './reply.js'

type Pipeline = ReturnType<RedisClient['pipeline']>
/** send.lua, called on a client or queued on a pipeline: the modes differ only in its command and keys. */
export type SendCall = (c: RedisClient | Pipeline) => unknown
export type RunSendScript = (call: SendCall, plan: SendPlan, log: FastifyBaseLogger) => Promise<SendReply>

export function sendScriptRunner(redis: RedisClient, ctx: ApiContext, waitRedis: RedisClient): RunSendScript {
  const { config } = ctx

  /**
   * WAIT counts the writes of its own connection, so it goes in one pipeline right behind the
   * script: same connection, same master (a pipeline in a cluster goes to its slot's node), still
   * one round trip. A dedicated client keeps a slow WAIT from holding up other routes.
   */
  async function scriptThenWait(call: SendCall, requestId: string, log: FastifyBaseLogger): Promise<SendReply> {
    const attempt = async () => {
      const pipe = waitRedis.pipeline()
      call(pipe)
      pipe.wait(config.REDIS_WAIT_REPLICAS, config.REDIS_WAIT_TIMEOUT_MS)
      return await pipe.exec() as [[Error | null, SendReply], [Error | null, number]]
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

  // A test number queues no job, so there is nothing for replicas to hold.
  return (call, plan, log) => config.REDIS_WAIT_REPLICAS > 0 && !plan.testNumber
    ? scriptThenWait(call, plan.requestId, log)
    : call(redis) as Promise<SendReply>
}
