// Better Auth's phone-number plugin, as its docs set it up: codes in Redis through Better
// Auth's own secondary storage (@better-auth/redis-storage on ioredis), the memory adapter
// for the database (send-otp touches only the verification record, which lives in Redis),
// its rate limiter on and counting in Redis with a ceiling no bench reaches (as the service's
// limits are raised, not switched off), and a sendOTP that does nothing. Mounted in Fastify
// the way Better Auth's Fastify integration page does: a catch-all route turning the request
// into a Fetch Request (headers through fromNodeHeaders) for auth.handler.
import { redisStorage } from '@better-auth/redis-storage'
import { betterAuth } from 'better-auth'
import { memoryAdapter } from 'better-auth/adapters/memory'
import { fromNodeHeaders } from 'better-auth/node'
import { phoneNumber } from 'better-auth/plugins'
import Fastify from 'fastify'
import { Redis } from 'ioredis'

const port = Number(process.env.PORT)
const redis = new Redis(process.env.REDIS_URL, { enableAutoPipelining: true })
const auth = betterAuth({
  baseURL: `http://127.0.0.1:${port}`,
  secret: process.env.BETTER_AUTH_SECRET,
  trustedOrigins: ['http://127.0.0.1:8080'],
  database: memoryAdapter({ user: [], session: [], account: [], verification: [], rateLimit: [] }),
  secondaryStorage: redisStorage({ client: redis }),
  rateLimit: {
    enabled: true,
    storage: 'secondary-storage',
    customRules: { '/phone-number/send-otp': { window: 60, max: 1_000_000_000 } },
  },
  // The load comes from one socket address; Better Auth reads the client IP from this header.
  advanced: { ipAddress: { ipAddressHeaders: ['x-client-ip'] } },
  telemetry: { enabled: false },
  plugins: [phoneNumber({ sendOTP: () => {} })],
})

const app = Fastify({ logger: false })
app.route({
  method: ['GET', 'POST'],
  url: '/api/auth/*',
  async handler(request, reply) {
    const headers = fromNodeHeaders(request.headers)
    headers.set('x-client-ip', request.ip)
    const response = await auth.handler(new Request(new URL(request.url, `http://${request.headers.host}`), {
      method: request.method,
      headers,
      ...(request.body ? { body: JSON.stringify(request.body) } : {}),
    }))
    reply.status(response.status)
    response.headers.forEach((value, name) => reply.header(name, value))
    return reply.send(response.body ? await response.text() : null)
  },
})
await app.listen({ port, host: '127.0.0.1' })
process.on('SIGTERM', () => app.close().then(() => { redis.disconnect(); process.exit(0) }))
