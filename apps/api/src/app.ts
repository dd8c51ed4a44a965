import Fastify, { LogController, type FastifyBaseLogger } from 'fastify'
import cors from '@fastify/cors'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config, RedisClient } from '@sms-verify/shared'
import { createContext } from './context.js'
import { createApiLogger } from './logger.js'
import { codeSender } from './send-code.js'
import { accessLogPlugin } from './plugins/access-log.js'
import { docsPlugin } from './plugins/docs.js'
import { errorHandlerPlugin } from './plugins/error-handler.js'
import { hostCheckPlugin } from './plugins/host-check.js'
import { metricsPlugin } from './plugins/metrics.js'
import { rateLimitPlugin } from './plugins/rate-limit.js'
import { redisPlugin } from './plugins/redis.js'
import { callbackRoutes } from './routes/callbacks.js'
import { healthRoutes } from './routes/health.js'
import { legacyRoutes } from './routes/legacy.js'
import { notificationRoutes } from './routes/notifications.js'
import { requestRoutes } from './routes/requests.js'
import { smsCodeRoutes } from './routes/sms-codes.js'
import { verifyRoutes } from './routes/verify.js'
import { jwksRoutes } from './routes/jwks.js'
import { createCaptcha } from './captcha/create.js'
import { captchaGate } from './captcha/gate.js'
import { createTokenIssuer } from './tokens/issuer.js'
import { loadTokenKeys } from './tokens/keys.js'

export interface ApiDeps {
  redis: RedisClient
  /**
   * With REDIS_WAIT_REPLICAS > 0: the connection sends go through, each followed by WAIT.
   * Its own client, so a slow WAIT never holds up other routes' commands. Closed with the app.
   */
  waitRedis?: RedisClient | undefined
  /** a pino logger; defaults to one at LOG_LEVEL on stdout */
  logger?: FastifyBaseLogger
  /** CODE_PEPPER as bytes (main.ts makes a random one when unset) */
  pepper: Buffer
  /** JOB_SEAL_KEY as bytes; without it codes travel in the clear */
  sealKey?: Buffer | undefined
  /** the clock, for tests of expiry */
  now?: () => number
}

/** Small JSON bodies everywhere but bulk notifications, which set their own limit. */
const BODY_LIMIT = 16 * 1024

/**
 * TRUST_PROXY: `true`, a hop count, or a comma list of addresses/CIDRs.
 * Fastify 5 no longer takes a bare number, so hops become proxy-addr's
 * "trust the first n hops" function.
 */
function trustProxy(value: string | undefined): boolean | string | ((address: string, hop: number) => boolean) {
  if (value === undefined || value === 'false') return false
  if (value === 'true') return true
  if (!/^\d+$/.test(value)) return value
  const hops = Number(value)
  return (_address, hop) => hop < hops
}

/**
 * The whole HTTP API, not listening: main.ts listens, tests inject.
 * Throws ConfigError for a token key or captcha setting that cannot work.
 */
export async function buildApp(config: Config, deps: ApiDeps) {
  const ctx = createContext(config, deps)
  const tokenKeys = await loadTokenKeys(config)
  const captcha = createCaptcha(config)
  const app = Fastify({
    loggerInstance: deps.logger ?? createApiLogger(config.LOG_LEVEL),
    trustProxy: trustProxy(config.TRUST_PROXY),
    bodyLimit: BODY_LIMIT,
    requestTimeout: 10_000,
    logController: new LogController({ disableRequestLogging: true }),
    // Numbers stay numbers: a JSON 13812345678 for mobile is a type error, not a string.
    ajv: { customOptions: { coerceTypes: false, allErrors: false, removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>()

  // The API speaks JSON only: any other body is 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain')
  await app.register(accessLogPlugin)
  await app.register(errorHandlerPlugin)
  await app.register(redisPlugin, { client: deps.redis, waitClient: deps.waitRedis })
  await app.register(metricsPlugin, { publicRoute: config.API_METRICS_PORT === undefined })
  // CORS first, so every later refusal (host, rate limit, 404, 413) carries its headers.
  // Browsers hide every response header a script was not told about: Retry-After drives the page's countdown.
  await app.register(cors, {
    origin: [...config.CORS_ORIGINS],
    credentials: true,
    exposedHeaders: ['Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'],
  })
  await app.register(hostCheckPlugin, { allowed: config.ALLOWED_HOSTS })
  await app.register(rateLimitPlugin, { max: config.RATE_LIMIT_PER_MINUTE, redis: deps.redis })
  await app.register(docsPlugin)

  const send = codeSender(deps.redis, ctx, app.metrics, deps.waitRedis)
  await app.register(healthRoutes, { clients: deps.waitRedis ? [deps.redis, deps.waitRedis] : [deps.redis] })
  const checkCaptcha = captchaGate(captcha, config, app.metrics)
  await app.register(smsCodeRoutes, { send, checkCaptcha })
  await app.register(legacyRoutes, { send, checkCaptcha })
  await app.register(verifyRoutes, { ctx, issueToken: tokenKeys && createTokenIssuer(tokenKeys, config, ctx.now) })
  await app.register(jwksRoutes, { keys: tokenKeys })
  await app.register(requestRoutes, { ctx })
  await app.register(notificationRoutes, { ctx })
  // Delivery receipts (issue 10): routes/callbacks.ts belongs to the receipts work.
  await app.register(callbackRoutes, { config })
  return app
}
export type App = Awaited<ReturnType<typeof buildApp>>
