import { type Config, ConfigError, createRedis, FAIL_FAST, failFastWithWait, loadServiceConfig, localOnlyWarnings, randomPepper, sealKeyFrom } from '@sms-verify/shared'
import { buildApp } from './app.js'
import { createApiLogger } from './logger.js'
import { createApiMetricsServer } from './metrics-server.js'

function configOrExit(): Config {
  try {
    return loadServiceConfig(process.env)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`${err.message}\n`)
    process.exit(1)
  }
}
const config = configOrExit()

const log = createApiLogger(config.LOG_LEVEL)
for (const warning of localOnlyWarnings(config, ['CODE_PEPPER', 'JOB_SEAL_KEY'])) log.warn(warning)
if (config.TEST_NUMBERS.size > 0 && config.NODE_ENV === 'production') log.warn({ count: config.TEST_NUMBERS.size }, 'TEST_NUMBERS is set in production: these numbers get fixed codes')

const redis = createRedis(config, FAIL_FAST)
// FAIL_FAST answers 503 while Redis is away; the client reconnects by itself, so errors are only logged.
redis.on('error', (err: Error) => log.warn({ err }, 'redis connection error'))

const waitRedis = config.REDIS_WAIT_REPLICAS > 0 ? createRedis(config, failFastWithWait(config.REDIS_WAIT_TIMEOUT_MS)) : undefined
waitRedis?.on('error', (err: Error) => log.warn({ err }, 'redis connection error (wait client)'))

const app = await buildApp(config, {
  redis,
  waitRedis,
  logger: log,
  pepper: config.CODE_PEPPER === undefined ? randomPepper() : Buffer.from(config.CODE_PEPPER, 'utf8'),
  sealKey: sealKeyFrom(config.JOB_SEAL_KEY),
}).catch((err: unknown) => {
  // buildApp checks what the schema cannot (the token key, a captcha provider's settings): same one line.
  if (!(err instanceof ConfigError)) throw err
  process.stderr.write(`${err.message}\n`)
  process.exit(1)
})

// With API_METRICS_PORT, /metrics lives only on its own listener (the app left it out), bound to METRICS_HOST.
const metricsServer = config.API_METRICS_PORT === undefined ? undefined : createApiMetricsServer(app.metrics.registry)

let closing = false
async function shutdown(signal: string) {
  if (closing) return
  closing = true
  log.info({ signal }, 'api shutting down')
  const timer = setTimeout(() => {
    log.warn({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out; exiting with requests in flight')
    process.exit(0)
  }, config.SHUTDOWN_TIMEOUT_MS)
  timer.unref()
  metricsServer?.close()
  await app.close().catch((err: unknown) => log.error({ err }, 'error while closing'))
  log.info('api stopped')
  process.exit(0)
}
process.once('SIGTERM', () => void shutdown('SIGTERM'))
process.once('SIGINT', () => void shutdown('SIGINT'))

await app.listen({ host: config.HOST, port: config.PORT })
if (metricsServer && config.API_METRICS_PORT !== undefined) {
  const port = config.API_METRICS_PORT
  await new Promise<void>((resolve) => {
    metricsServer.once('error', (err) => {
      log.error({ err, host: config.METRICS_HOST, port }, 'cannot listen for metrics: set API_METRICS_PORT or METRICS_HOST to a free address')
      process.exit(1)
    })
    metricsServer.listen(port, config.METRICS_HOST, resolve)
  })
  log.info({ host: config.METRICS_HOST, port }, 'metrics listening')
}
log.info({ port: config.PORT }, 'api listening')
