// The ceiling for the send route: the bare Fastify route of reference-server.mjs (logger off,
// no validation, no hooks) calling the real send.lua with the real keys and ARGV layout, as
// apps/api/src/send-code.ts does in standalone mode. It isolates the Redis work the guards
// require (cooldown, daily and per-IP windows, request counter, status record, supersede
// check, XADD) with none of the API's JavaScript (validation, libphonenumber, HMAC, hooks,
// logging): what the code computes is a cheap constant here (fixed HMAC, fixed code).
import Fastify from 'fastify'
import { configSchema, createRedis, globalKeys, IDEMPOTENCY_TTL_MS, keys, loadConfig, MINUTE_MS, partition, sendScript } from '@sms-verify/shared'

const config = loadConfig(configSchema, process.env)
const redis = createRedis(config)
const k = keys(partition(0, 1, false)) // standalone, one partition: what the API uses for the same env
const purpose = 'register'
const hmac = 'bench-hmac-0123456789abcdefghijklmnopqrstuv' // codeHmac's length: 43 base64url chars
const code = '123456'
const codeTtlMs = config.CODE_TTL_SECONDS * 1000
const resendMs = config.RESEND_INTERVAL_SECONDS * 1000
const statusTtlMs = codeTtlMs + config.STATUS_TTL_SECONDS * 1000
const budget = config.SMS_BUDGET_PER_MINUTE ?? 0
let counter = 0

const app = Fastify({ logger: false })
app.post('/v1/sms-codes', async (req, reply) => {
  const mobile = `+86${req.body.mobile}`
  const requestId = `0-c${counter++}`
  const now = Date.now()
  const ip = req.ip
  // encodeJob's output for a code job, in its field order
  const job = ['v', '1', 'kind', 'code', 'requestId', requestId, 'mobile', mobile, 'purpose', purpose, 'code', code,
    'createdAt', String(now), 'expiresAt', String(now + codeTtlMs), 'attempts', '0']
  const r = await redis.smsSend(10,
    ...sendScript.keys({ cooldown: k.cooldown(mobile, purpose), code: k.code(mobile, purpose), daily: k.daily(mobile), carrierBlock: k.carrierBlock(mobile),
      request: k.request(requestId), stream: k.jobs, idempotency: k.idempotency('-'), ipSends: globalKeys.ipSends(ip), budget: globalKeys.budget, requestCounter: globalKeys.requestCounter(ip) }),
    ...sendScript.args({ now, requestId, mobile, purpose, codeHmac: hmac, codeTtlMs, resendIntervalMs: resendMs, dailyLimit: config.SMS_DAILY_LIMIT_PER_MOBILE, statusTtlMs,
      idempotencyFingerprint: '', idempotencyTtlMs: IDEMPOTENCY_TTL_MS, testNumber: false, streamCap: config.STREAM_MAXLEN, requestPrefix: k.requestPrefix,
      ipLimitPerHour: config.SEND_LIMIT_PER_IP_PER_HOUR, budgetPerMinute: budget, requestLimit: config.RATE_LIMIT_PER_MINUTE, requestWindowMs: MINUTE_MS, client: ip, job }))
  return r[0] === 'ok' ? reply.code(202).send({ requestId }) : reply.code(429).send({ error: r[0] })
})
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
console.log(JSON.stringify({ msg: 'ceiling listening' }))
process.on('SIGTERM', () => app.close().then(() => { redis.disconnect(); process.exit(0) }))
