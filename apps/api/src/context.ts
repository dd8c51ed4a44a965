import { allPartitions, clusterMode, keys, partitionCount, type Config, type PartitionKeys } from '@sms-verify/shared'

/** What every route needs besides the Redis client: settled once in buildApp, then passed down. */
export interface ApiContext {
  readonly config: Config
  readonly pepper: Buffer
  readonly sealKey: Buffer | undefined
  readonly now: () => number
  readonly cluster: boolean
  /** key builders of every partition, index = partition number */
  readonly partitions: readonly PartitionKeys[]
}

export function createContext(config: Config, deps: { pepper: Buffer, sealKey?: Buffer | undefined, now?: (() => number) | undefined }): ApiContext {
  const cluster = clusterMode(config)
  return {
    config,
    pepper: deps.pepper,
    sealKey: deps.sealKey,
    now: deps.now ?? Date.now,
    cluster,
    partitions: allPartitions(partitionCount(config), cluster).map(keys),
  }
}
