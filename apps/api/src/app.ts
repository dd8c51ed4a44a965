import Fastify, { LogController, type FastifyBaseLogger } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config, RedisClient, TrustProxy } from '@sms-verify/shared'
import { trustOf, type Trust } from './client-address.js'
import { codeChecker } from './check-code.js'
import { createContext } from './context.js'
import { createApiLogger } from './logger.js'
import { codeSender } from './send/index.js'
import { edgeServerOptions } from './edge/server-options.js'
import { clientPlugin } from './plugins/client.js'
import { accessLogPlugin } from './plugins/access-log.js'
import { corsPlugin } from './plugins/cors.js'
import { docsPlugin } from './plugins/docs.js'
import { errorHandlerPlugin } from './plugins/error-handler.js'
import { hostCheckPlugin, hostPolicy } from './plugins/host-check.js'
import { metricsPlugin } from './plugins/metrics.js'
import { notFoundPlugin } from './plugins/not-found.js'
import { rateLimitPlugin } from './plugins/rate-limit.js'
import { redisPlugin } from './plugins/redis.js'
import { requestTargetPlugin } from './plugins/request-target.js'
import { securityHeadersPlugin } from './plugins/security-headers.js'
import { serverEventsPlugin } from './plugins/server-events.js'
import { unreadBodyPlugin } from './plugins/unread-body.js'
import { callbackRoutes } from './routes/callbacks.js'
import { healthRoutes } from './routes/health.js'
import { legacyRoutes } from './routes/legacy.js'
import { notificationRoutes } from './routes/notifications.js'
import { requestRoutes } from './routes/requests.js'
import { rootRoutes } from './routes/root.js'
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
  /** tests only: the contract's 15 s for a request to arrive, shortened */
  requestTimeoutMs?: number
}

/** Small JSON bodies everywhere but bulk notifications, which set their own limit. */
const BODY_LIMIT = 16 * 1024

/**
 * Fastify's own view of the proxy (request.ip, request.protocol, request.host) follows the
 * same rule as the client key (plugins/client.ts); Fastify 5 refuses a bare hop count, so hops
 * go in as a function. Limits use request.clientKey, never request.ip.
 */
function trustProxy(setting: TrustProxy | undefined): false | Trust {
  return setting === undefined ? false : trustOf(setting)
}

/**
 * The whole HTTP API, not listening: main.ts listens, tests inject.
 * Throws ConfigError for a token key or captcha setting that cannot work.
 */
export async function buildApp(config: Config, deps: ApiDeps) {
  const ctx = createContext(config, deps)
  const tokenKeys = await loadTokenKeys(config)
  const captcha = await createCaptcha(config)
  const app = Fastify({
    loggerInstance: deps.logger ?? createApiLogger(config.LOG_LEVEL),
    trustProxy: trustProxy(config.TRUST_PROXY),
    bodyLimit: BODY_LIMIT,
    ...edgeServerOptions({ corsOrigins: config.CORS_ORIGINS, requestTimeoutMs: deps.requestTimeoutMs }),
    logController: new LogController({ disableRequestLogging: true }),
    // Numbers stay numbers: a JSON 13812345678 for mobile is a type error, not a string.
    ajv: { customOptions: { coerceTypes: false, allErrors: false, removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>()

  // The API speaks JSON only: any other body is 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain')
  await app.register(accessLogPlugin)
  await app.register(errorHandlerPlugin)
  await app.register(notFoundPlugin)
  await app.register(securityHeadersPlugin)
  await app.register(serverEventsPlugin, { corsOrigins: config.CORS_ORIGINS })
  await app.register(unreadBodyPlugin)
  await app.register(redisPlugin, { client: deps.redis, waitClient: deps.waitRedis })
  await app.register(metricsPlugin, { publicRoute: config.API_METRICS_PORT === undefined })
  const hosts = hostPolicy(config.ALLOWED_HOSTS)
  // CORS first, so every later refusal (target, host, rate limit, 404, 413) carries its headers.
  await app.register(corsPlugin, { origins: config.CORS_ORIGINS, hostPolicy: hosts })
  await app.register(requestTargetPlugin)
  await app.register(hostCheckPlugin, { policy: hosts })
  await app.register(clientPlugin, { trustProxy: config.TRUST_PROXY })
  await app.register(rateLimitPlugin, { max: config.RATE_LIMIT_PER_MINUTE, redis: deps.redis })
  await app.register(docsPlugin)

  const send = codeSender(deps.redis, ctx, app.metrics, deps.waitRedis)
  await app.register(healthRoutes, { clients: deps.waitRedis ? [deps.redis, deps.waitRedis] : [deps.redis] })
  const checkCaptcha = captchaGate(captcha, config, app.metrics)
  await app.register(smsCodeRoutes, { send, checkCaptcha })
  await app.register(legacyRoutes, { send, checkCaptcha, corsOrigins: config.CORS_ORIGINS })
  await app.register(verifyRoutes, { ctx, checkCode: codeChecker(deps.redis, ctx), issueToken: tokenKeys && createTokenIssuer(tokenKeys, config, ctx.now) })
  await app.register(jwksRoutes, { keys: tokenKeys })
  await app.register(requestRoutes, { ctx })
  await app.register(notificationRoutes, { ctx })
  // Delivery receipts (issue 10): routes/callbacks.ts belongs to the receipts work.
  await app.register(callbackRoutes, { config })
  await app.register(rootRoutes)
  return app
}
export type App = Awaited<ReturnType<typeof buildApp>>
