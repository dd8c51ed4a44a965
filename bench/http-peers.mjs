// The servers of the HTTP part, side by side: what each one runs and what a request to it
// looks like. Every one answers a send (or a verify) for a fresh mobile on PORT against REDIS_URL.
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const at = (path) => `${root}${path}`

// Production-shaped secrets: with NODE_ENV=production the API refuses to start without them.
export const CODE_PEPPER = 'bench-pepper-not-a-secret-0123456789abcdef'
export const JOB_SEAL_KEY = Buffer.alloc(32, 'bench-seal-key').toString('base64')

/** The real API: every check on, limits high enough that one load-generating IP never trips them. */
export const apiEnv = (extra) => ({
  NODE_ENV: 'production', LOG_LEVEL: 'info', CODE_PEPPER, JOB_SEAL_KEY,
  RATE_LIMIT_PER_MINUTE: '1000000000', SEND_LIMIT_PER_IP_PER_HOUR: '1000000000',
  SMS_DAILY_LIMIT_PER_MOBILE: '10', STREAM_MAXLEN: '100000000', ...extra,
})

const sendBody = (mobile) => ({ mobile, purpose: 'register' })

/** Send routes; `id` names the figures in results/latest.json. */
export const sendPeers = [
  {
    id: 'reference', label: 'the bare reference (Fastify + one 3-command script)',
    script: at('bench/peers/reference-send.mjs'), env: {}, path: '/v1/sms-codes', body: sendBody, prefix: '137',
  },
  {
    id: 'api', label: 'this service, `POST /v1/sms-codes`, every guard on',
    script: at('apps/api/dist/main.js'), env: apiEnv(), path: '/v1/sms-codes', body: sendBody, prefix: '139',
  },
  {
    id: 'bullmq', label: 'a Fastify route with a SET NX cooldown + BullMQ `Queue.add`',
    script: at('bench/peers/bullmq-send.mjs'), env: {}, path: '/v1/sms-codes', body: sendBody, prefix: '138',
  },
  {
    id: 'betterAuth', label: "Better Auth's phone-number plugin, send-otp (Redis storage)",
    script: at('bench/peers/better-auth-send.mjs'), env: { BETTER_AUTH_SECRET: 'bench-better-auth-secret-0123456789abcdef' },
    path: '/api/auth/phone-number/send-otp', body: (mobile) => ({ phoneNumber: `+86${mobile}` }), prefix: '136',
  },
]

/** Verify routes: the real one runs on the API process right after its send load (see http-bench.mjs). */
export const verifyReference = {
  id: 'reference', label: 'the bare verify reference (Fastify + HMAC + one GET/compare/DEL script)',
  script: at('bench/peers/reference-verify.mjs'), env: { CODE_PEPPER }, path: '/v1/sms-codes/verify', prefix: '135',
}
export const apiVerify = { id: 'api', label: 'this service, `POST /v1/sms-codes/verify`, right codes', path: '/v1/sms-codes/verify' }
