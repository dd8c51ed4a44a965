// What a Node user would otherwise write: a Fastify route with a schema-checked body, a
// SET NX EX 60 resend cooldown, a code from the CSPRNG, and a BullMQ job for a worker to
// send (5 attempts, exponential backoff). No per-number or per-IP windows, no status record.
import { randomInt } from 'node:crypto'
import { Queue } from 'bullmq'
import Fastify from 'fastify'
import { Redis } from 'ioredis'

const redis = new Redis(process.env.REDIS_URL, { enableAutoPipelining: true })
const queue = new Queue('sms', { connection: new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: null }) })
const jobOptions = { attempts: 5, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: 1000 }

const body = {
  type: 'object',
  required: ['mobile', 'purpose'],
  additionalProperties: false,
  properties: { mobile: { type: 'string', pattern: '^1[3-9]\\d{9}$' }, purpose: { type: 'string', enum: ['register', 'login', 'reset_password'] } },
}
const app = Fastify({ logger: false })
app.post('/v1/sms-codes', { schema: { body } }, async (req, reply) => {
  const { mobile, purpose } = req.body
  if ((await redis.set(`bull-peer:cooldown:${purpose}:${mobile}`, '1', 'EX', 60, 'NX')) === null) {
    return reply.code(429).send({ error: 'too_many_requests' })
  }
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0')
  const job = await queue.add('send', { mobile, purpose, code }, jobOptions)
  return reply.code(202).send({ requestId: job.id })
})
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.on('SIGTERM', () => app.close().then(() => queue.close()).then(() => { redis.disconnect(); process.exit(0) }))
