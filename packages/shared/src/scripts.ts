import { readFileSync } from 'node:fs'
import type { Cluster, Redis, Result } from 'ioredis'

const lua = (name: string) => readFileSync(new URL(`../lua/${name}.lua`, import.meta.url), 'utf8')

/**
 * Every Lua script, registered once per connection with defineCommand; ioredis
 * sends EVALSHA and falls back to EVAL on NOSCRIPT. Each script's header lists
 * its KEYS, ARGV and reply. `numberOfKeys` is omitted where it varies: the
 * caller passes it first.
 */
export const SCRIPTS = {
  smsSend: { file: 'send' },
  /** send.lua with the 7 per-mobile keys only: Redis Cluster, where a fixed key count lets ioredis route by KEYS[1] */
  smsSendSharded: { file: 'send', numberOfKeys: 7 },
  smsWindow: { file: 'window', numberOfKeys: 1 },
  smsCount: { file: 'count', numberOfKeys: 1 },
  smsVerify: { file: 'verify', numberOfKeys: 2 },
  smsStatus: { file: 'status', numberOfKeys: 1 },
  smsBulk: { file: 'bulk', numberOfKeys: 3 },
  smsReceipt: { file: 'receipt', numberOfKeys: 1 },
  // the sender's scripts (apps/sender/src/sender.ts)
  smsLease: { file: 'lease', numberOfKeys: 2 },
  smsFinish: { file: 'finish', numberOfKeys: 4 },
  smsRetry: { file: 'retry', numberOfKeys: 4 },
  smsPromote: { file: 'promote', numberOfKeys: 2 },
  smsDeadLetter: { file: 'dead-letter', numberOfKeys: 5 },
} as const satisfies Record<string, { file: string, numberOfKeys?: number }>

type Arg = string | number | Buffer
declare module 'ioredis' {
  interface RedisCommander<Context> {
    smsSend(numberOfKeys: number, ...keysAndArgs: Arg[]): Result<(string | number)[], Context>
    smsSendSharded(...keysAndArgs: Arg[]): Result<(string | number)[], Context>
    smsWindow(key: string, now: number, windowMs: number, limit: number, member: string): Result<number[], Context>
    smsCount(key: string, limit: number, windowMs: number): Result<number[], Context>
    smsVerify(code: string, failures: string, now: number, hmac: string, maxTries: number, maxDaily: number, requestPrefix: string): Result<(string | number)[], Context>
    smsStatus(request: string, now: number, status: string, ...fields: Arg[]): Result<number, Context>
    smsBulk(request: string, stream: string, idempotency: string, ...args: Arg[]): Result<string[], Context>
    smsReceipt(serial: string, now: number, delivered: '1' | '0', reason: string, requestPrefix: string): Result<[number, string], Context>
    smsLease(lease: string, request: string, token: string, leaseMs: number, now: number, attempts: number): Result<'ok' | 'done' | 'busy', Context>
    smsFinish(stream: string, request: string, lease: string, serial: string, group: string, id: string, now: number, status: string,
      doneMs: number, serialMs: number, requestId: string, results: string, ...fields: Arg[]): Result<number, Context>
    smsRetry(stream: string, retries: string, request: string, lease: string, group: string, id: string, now: number, due: number,
      member: string, token: string, results: string, ...fields: Arg[]): Result<number, Context>
    smsPromote(retries: string, stream: string, now: number, limit: number): Result<number, Context>
    smsDeadLetter(stream: string, dead: string, request: string, lease: string, carrierBlock: string, group: string, id: string,
      now: number, maxlen: number, token: string, blockMs: number, reason: string, error: string, attempts: number, ...fields: Arg[]): Result<number, Context>
  }
}

const sources = new Map<string, string>()

export function defineScripts(client: Redis | Cluster, scripts: Record<string, { file: string, numberOfKeys?: number }> = SCRIPTS): void {
  for (const [name, { file, numberOfKeys }] of Object.entries(scripts)) {
    let lua_ = sources.get(file)
    if (lua_ === undefined) sources.set(file, (lua_ = lua(file)))
    client.defineCommand(name, numberOfKeys === undefined ? { lua: lua_ } : { lua: lua_, numberOfKeys })
  }
}
