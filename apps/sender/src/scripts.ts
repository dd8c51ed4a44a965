import { defineScripts, type RedisClient } from '@sms-verify/shared'
import type { Result } from 'ioredis'

/**
 * The sender's Lua scripts (packages/shared/lua/*.lua; each file's header
 * lists its KEYS, ARGV and reply), registered on the sender's connections.
 * lease, unlease and finish take a batch of jobs of one partition: their one declared
 * key is the partition stream, and the per-job keys (same hash tag, same
 * slot) travel in ARGV. A fixed key count matters in cluster mode: ioredis's
 * auto-pipelining groups a call by its first argument, which must be a key.
 */
export const SENDER_SCRIPTS = {
  senderLease: { file: 'lease', numberOfKeys: 1 },
  senderFinish: { file: 'finish', numberOfKeys: 1 },
  senderUnlease: { file: 'unlease', numberOfKeys: 1 },
  senderRetry: { file: 'retry', numberOfKeys: 4 },
  senderDeadLetter: { file: 'dead-letter', numberOfKeys: 5 },
  /** one partition per call (cluster) */
  senderPromote: { file: 'promote', numberOfKeys: 2 },
  /** every partition in one call (standalone only: no slots) */
  senderPromoteAll: { file: 'promote' },
  senderTrim: { file: 'trim', numberOfKeys: 1 },
  senderTrimAll: { file: 'trim' },
  senderForgetConsumers: { file: 'forget-consumers', numberOfKeys: 1 },
} as const

type Arg = string | number
declare module 'ioredis' {
  interface RedisCommander<Context> {
    senderLease(stream: string, ...args: Arg[]): Result<number[], Context>
    senderFinish(stream: string, ...args: Arg[]): Result<number, Context>
    senderUnlease(stream: string, ...args: Arg[]): Result<number, Context>
    senderRetry(stream: string, retries: string, request: string, lease: string, group: string, id: string, now: number, due: number,
      member: string, token: string, keepLease: '0' | '1', results: string, ...fields: Arg[]): Result<number, Context>
    senderDeadLetter(stream: string, dead: string, request: string, lease: string, carrierBlock: string, group: string, id: string,
      now: number, maxlen: number, token: string, blockMs: number, reason: string, error: string, attempts: number, results: string,
      ...fields: Arg[]): Result<number, Context>
    senderPromote(retries: string, stream: string, now: number, limit: number, requestPrefix: string): Result<[number, number, number], Context>
    senderPromoteAll(numberOfKeys: number, ...keysAndArgs: Arg[]): Result<[number, number, number], Context>
    senderTrim(stream: string, group: string): Result<number, Context>
    senderTrimAll(numberOfKeys: number, ...keysAndArgs: Arg[]): Result<number, Context>
    senderForgetConsumers(stream: string, group: string, minIdleMs: number, self: string): Result<string[], Context>
  }
}

const defined = new WeakSet<object>()

/** Registers the scripts once per client (defineCommand is local: no I/O). */
export function defineSenderScripts(client: RedisClient): RedisClient {
  if (!defined.has(client)) {
    defineScripts(client, SENDER_SCRIPTS)
    defined.add(client)
  }
  return client
}
