// The bare reference for the send route: a plain Fastify route running one Lua
// script (SET NX EX + SET EX + XADD) with auto-pipelining, and nothing else:
// no validation, no limits beyond the cooldown, no logging.
import Fastify from 'fastify'
import { Redis } from 'ioredis'

const lua = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', 60) then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'EX', 300)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', 1000000, '*', 'mobile', ARGV[2], 'code', ARGV[1])
return 1`
const redis = new Redis(process.env.REDIS_URL, { enableAutoPipelining: true })
redis.defineCommand('bareSend', { lua, numberOfKeys: 3 })
const app = Fastify({ logger: false })
app.post('/v1/sms-codes', async (req, reply) => {
  const { mobile } = req.body
  const ok = await redis.bareSend(`ref:cooldown:${mobile}`, `ref:code:${mobile}`, 'ref:jobs', '123456', mobile)
  return reply.code(ok ? 202 : 429).send({ ok })
})
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.on('SIGTERM', () => app.close().then(() => { redis.disconnect(); process.exit(0) }))
