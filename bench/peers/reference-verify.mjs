// The bare reference for the verify route: a plain Fastify route that hashes the offered
// code with the pepper and runs one Lua script that compares it with the stored hash and
// deletes it when it matches. No validation, no try counting, no logging.
// The bench writes the stored hashes itself (seedReferenceCodes) before the load.
import { createHmac } from 'node:crypto'
import Fastify from 'fastify'
import { Redis } from 'ioredis'

// KEYS[1] code hash   ARGV[1] hash of the offered code   returns 1 verified | 0 wrong | -1 none
const lua = `
local stored = redis.call('GET', KEYS[1])
if not stored then return -1 end
if stored ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1`
const pepper = process.env.CODE_PEPPER
const redis = new Redis(process.env.REDIS_URL, { enableAutoPipelining: true })
redis.defineCommand('bareVerify', { lua, numberOfKeys: 1 })
const app = Fastify({ logger: false })
app.post('/v1/sms-codes/verify', async (req, reply) => {
  const { mobile, code } = req.body
  const hash = createHmac('sha256', pepper).update(`${mobile}\0${code}`).digest('base64url')
  const outcome = await redis.bareVerify(`ref:vcode:${mobile}`, hash)
  return reply.code(outcome === 1 ? 200 : outcome === 0 ? 400 : 404).send({ verified: outcome === 1 })
})
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.on('SIGTERM', () => app.close().then(() => { redis.disconnect(); process.exit(0) }))
