import { pathToFileURL } from 'node:url'
import { ConfigError, createRedis, loadServiceConfig, localOnlyWarnings, loggerOptions, bufferedStdout, type Config } from '@sms-verify/shared'
import { pino, type Logger } from 'pino'
import { Failover } from './failover.js'
import { createMetricsServer } from './http.js'
import { SenderMetrics } from './metrics.js'
import type { Provider } from './provider.js'
import { createProviders, failoverOptions } from './providers/index.js'
import { purposesWithoutTemplate } from './providers/require-config.js'
import { ReceiptPoller } from './receipts/poller.js'
import { Sender } from './sender.js'

/**
 * The sender process: config, connections, provider chain, the loop, the
 * metrics server, signals. Only wiring lives here.
 *
 * SENDER_TEST_PROVIDER_MODULE exists for the process-level tests only: an
 * absolute path to an ES module exporting `createProvider(config, logger)`,
 * used instead of SMS_PROVIDER (packages/testing/src/test-provider.ts).
 */
async function main(): Promise<void> {
  let config: Config
  try {
    config = loadServiceConfig(process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sender: ${err.message}\n`)
      process.exit(1)
    }
    throw err
  }
  const logger = pino(loggerOptions(config.LOG_LEVEL, 'sender'), bufferedStdout())
  let providers: Provider[]
  try {
    providers = await buildProviders(config, logger)
  } catch (err) {
    if (err instanceof ConfigError || (err as Error).name === 'ConfigError') {
      process.stderr.write(`sender: ${(err as Error).message}\n`)
      process.exit(1)
    }
    throw err
  }
  // Warnings only once the configuration is known to start: a refused start prints its one line alone.
  for (const warning of localOnlyWarnings(config, ['JOB_SEAL_KEY'])) logger.warn(warning)
  await Promise.all(providers.map((p) => p.ready?.()))
  for (const { provider, purposes } of purposesWithoutTemplate(config)) {
    logger.warn({ provider, purposes }, 'no template for these purposes: their codes will fail for good (dead letters)')
  }

  // Commands wait through an outage (offline queue, unlimited retries) so a completion is never dropped.
  // Blocking reads get their own connections, made by the Sender (one per partition in cluster mode).
  const redis = createRedis(config, { maxRetriesPerRequest: null, enableOfflineQueue: true })
  let down = false
  redis.on('error', (err: Error) => { if (!down) logger.warn({ err, connection: 'commands' }, 'redis connection error; reconnecting'); down = true })
  redis.on('ready', () => { if (down) logger.info({ connection: 'commands' }, 'redis connection back'); down = false })
  const metrics = new SenderMetrics()
  const provider = new Failover(providers, failoverOptions(config))
  const sender = new Sender({ config, redis, provider, logger, metrics })
  const poller = new ReceiptPoller({
    config, redis, providers, log: logger,
    observe: (receipt, result, queuedAt) => metrics.observeReceipt(receipt, result, queuedAt),
  })
  const server = createMetricsServer(metrics)
  server.on('error', (err) => logger.error({ err }, 'metrics server failed'))
  server.listen(config.METRICS_PORT, config.METRICS_HOST)

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    // One deadline for everything, from the signal.
    const deadline = Date.now() + config.SHUTDOWN_TIMEOUT_MS
    logger.info({ signal, inFlight: sender.inFlight }, 'stopping: no new reads, awaiting in-flight sends')
    const left = () => Math.max(0, deadline - Date.now())
    await Promise.allSettled([sender.close(deadline), raceTimeout(poller.close(), left())])
    server.close()
    // quit() would wait forever on a Redis that is down; give it what is left (at most a second).
    await raceTimeout(redis.quit(), Math.min(1000, Math.max(100, left())))
    redis.disconnect()
    logger.info('sender exited')
    logger.flush?.()
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))

  await sender.start()
  if (poller.enabled) {
    poller.start()
    logger.info({ everySeconds: config.SENDER_RECEIPT_POLL_SECONDS }, 'receipt poller started')
  }
}

/** SMS_PROVIDER's providers in failover order (or the test provider). */
async function buildProviders(config: Config, logger: Logger): Promise<Provider[]> {
  const testModule = process.env.SENDER_TEST_PROVIDER_MODULE
  if (testModule) {
    const mod = await import(pathToFileURL(testModule).href) as { createProvider(config: Config, logger: Logger): Provider | Promise<Provider> }
    logger.warn({ module: testModule }, 'SENDER_TEST_PROVIDER_MODULE set: using a test provider (tests only)')
    return [await mod.createProvider(config, logger)]
  }
  return createProviders(config, logger)
}

function raceTimeout(p: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([p.catch(() => undefined), new Promise((resolve) => { timer = setTimeout(resolve, ms) })]).finally(() => clearTimeout(timer))
}

main().catch((err: unknown) => {
  process.stderr.write(`sender: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
