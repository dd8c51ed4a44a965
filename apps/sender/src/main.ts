import { pathToFileURL } from 'node:url'
import { ConfigError, configSchema, createRedis, loadConfig, loggerOptions, type Config } from '@sms-verify/shared'
import { pino, type Logger } from 'pino'
import { Failover } from './failover.js'
import { createMetricsServer } from './http.js'
import { SenderMetrics } from './metrics.js'
import type { Provider } from './provider.js'
import { createProvider, failoverOptions } from './providers/index.js'
import { Sender } from './sender.js'

/**
 * The sender process: config, connections, provider chain, the loop, the
 * metrics server, signals. Only wiring lives here.
 *
 * SENDER_TEST_PROVIDER_MODULE exists for the process-level tests only: an
 * absolute path to an ES module exporting `createProvider(config, logger)`,
 * used instead of SMS_PROVIDER (apps/sender/test/helpers/test-provider.mjs).
 */
async function main(): Promise<void> {
  let config: Config
  try {
    config = loadConfig(configSchema, process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sender: ${err.message}\n`)
      process.exit(1)
    }
    throw err
  }
  const logger = pino(loggerOptions(config.LOG_LEVEL, 'sender'), pino.destination({ dest: 1, sync: false }))
  let provider: Provider | Failover
  try {
    provider = await buildProvider(config, logger)
  } catch (err) {
    if (err instanceof ConfigError || (err as Error).name === 'ConfigError') {
      process.stderr.write(`sender: ${(err as Error).message}\n`)
      process.exit(1)
    }
    throw err
  }

  // Commands wait through an outage (offline queue, unlimited retries) so a completion is never dropped.
  const redis = createRedis(config, { maxRetriesPerRequest: null, enableOfflineQueue: true })
  const blockingRedis = createRedis(config, { maxRetriesPerRequest: null, enableOfflineQueue: true, enableAutoPipelining: false })
  for (const [name, client] of [['commands', redis], ['blocking', blockingRedis]] as const) {
    let down = false
    client.on('error', (err: Error) => { if (!down) logger.warn({ err, connection: name }, 'redis connection error; reconnecting'); down = true })
    client.on('ready', () => { if (down) logger.info({ connection: name }, 'redis connection back'); down = false })
  }
  const metrics = new SenderMetrics()
  const sender = new Sender({ config, redis, blockingRedis, provider, logger, metrics })
  const server = createMetricsServer(metrics)
  server.on('error', (err) => logger.error({ err }, 'metrics server failed'))
  server.listen(config.METRICS_PORT, config.HOST)

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal, inFlight: sender.inFlight }, 'stopping: no new reads, awaiting in-flight sends')
    await sender.close()
    server.close()
    // quit() would wait forever on a Redis that is down; give it a second.
    await Promise.race([Promise.allSettled([redis.quit(), blockingRedis.quit()]), new Promise((r) => setTimeout(r, 1000))])
    redis.disconnect()
    blockingRedis.disconnect()
    logger.info('sender exited')
    logger.flush?.()
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))

  await sender.start()
}

async function buildProvider(config: Config, logger: Logger): Promise<Provider | Failover> {
  const testModule = process.env.SENDER_TEST_PROVIDER_MODULE
  if (testModule) {
    const mod = await import(pathToFileURL(testModule).href) as { createProvider(config: Config, logger: Logger): Provider | Promise<Provider> }
    logger.warn({ module: testModule }, 'SENDER_TEST_PROVIDER_MODULE set: using a test provider (tests only)')
    return new Failover([await mod.createProvider(config, logger)], failoverOptions(config))
  }
  return createProvider(config, logger)
}

main().catch((err: unknown) => {
  process.stderr.write(`sender: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
