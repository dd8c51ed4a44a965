import { allPartitions, clusterMode, keys, partitionCount, sendSettingsOf, type Config, type PartitionKeys, type SendSettings } from '@sms-verify/shared'

/** What every route needs besides the Redis client: settled once in buildApp, then passed down. */
export interface ApiContext {
  readonly config: Config
  readonly pepper: Buffer
  readonly sealKey: Buffer | undefined
  readonly now: () => number
  readonly cluster: boolean
  /** key builders of every partition, index = partition number */
  readonly partitions: readonly PartitionKeys[]
  /** what every send.lua call shares, written into the script's text */
  readonly sendSettings: SendSettings
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
    sendSettings: sendSettingsOf(config),
  }
}
