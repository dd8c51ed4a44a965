import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis'
import type { Config } from './config.js'
import { clusterMode } from './config.js'
import { defineScripts } from './scripts.js'

export type RedisClient = Redis | Cluster

export function parseClusterNodes(list: readonly string[]): ClusterNode[] {
  return list.map((hostPort) => {
    const i = hostPort.lastIndexOf(':')
    return { host: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)) }
  })
}

/**
 * The one place that knows standalone from cluster. Everything above sees a
 * client with the scripts defined and auto-pipelining on.
 */
export function createRedis(config: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>, options: RedisOptions = {}): RedisClient {
  const common: RedisOptions = {
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(50 * times, 1000),
    ...options,
  }
  // A fail-fast client (the API's) must not let the cluster's own retries add up to a hang:
  // two redirections at most, so a request during a failover ends in a 503 within about 2 s.
  const failFast = options.maxRetriesPerRequest === 0
  const client = clusterMode(config)
    ? new Cluster(parseClusterNodes(config.REDIS_CLUSTER_NODES), {
        enableAutoPipelining: common.enableAutoPipelining ?? true,
        enableOfflineQueue: common.enableOfflineQueue ?? true,
        scaleReads: 'master',
        clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
        slotsRefreshTimeout: 1000,
        // The API's script + WAIT pipelines: ioredis follows MOVED only when a whole pipeline fails
        // alike, so its slot map is also refreshed on a timer (a promoted replica is found within 2 s).
        // Senders follow MOVED on their own commands and skip the timer's idle cost.
        ...(failFast ? { slotsRefreshInterval: 2000 } : {}),
        maxRedirections: failFast ? 2 : 16,
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
        retryDelayOnTryAgain: 100,
        redisOptions: common,
      })
    : new Redis(config.REDIS_URL, common)
  defineScripts(client)
  return client
}

/** Options for request paths: fail fast while Redis is away, so the API answers 503 quickly. */
export const FAIL_FAST: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 800,
  connectTimeout: 1000,
}

/**
 * The API's client for sends followed by WAIT: fail fast too, but a reply may take the WAIT
 * timeout itself on top, so the client must not give up on it first.
 */
export const failFastWithWait = (waitTimeoutMs: number): RedisOptions => ({
  ...FAIL_FAST,
  commandTimeout: (FAIL_FAST.commandTimeout ?? 800) + waitTimeoutMs,
})
