import { allPartitions, clusterMode, createRedis, partitionCount, type Config, type Partition, type RedisClient } from '@sms-verify/shared'
import type { RedisOptions } from 'ioredis'

export interface Output {
  out(line: string): void
  err(line: string): void
}

export interface Context {
  readonly config: Config
  readonly partitions: readonly Partition[]
  readonly cluster: boolean
  readonly json: boolean
  readonly io: Output
  /** the shared client, made on first use */
  redis(): RedisClient
  /** a fresh connection for blocking reads; closed by close() */
  blocking(): RedisClient
  close(): void
}

/** A CLI must not hang on a dead Redis: two quick connection tries, then the command fails. */
const CLI_REDIS: RedisOptions = {
  connectTimeout: 3000,
  maxRetriesPerRequest: 1,
  retryStrategy: (times) => (times > 2 ? null : 200),
}

export function createContext(config: Config, json: boolean, io: Output): Context {
  const cluster = clusterMode(config)
  const clients: RedisClient[] = []
  const make = () => {
    const client = createRedis(config, CLI_REDIS)
    // Errors surface through the failing command; the event would only repeat them.
    client.on('error', () => undefined)
    clients.push(client)
    return client
  }
  let shared: RedisClient | undefined
  return {
    config,
    partitions: allPartitions(partitionCount(config), cluster),
    cluster,
    json,
    io,
    redis: () => (shared ??= make()),
    blocking: make,
    close() {
      for (const c of clients.splice(0)) c.disconnect()
    },
  }
}
