import { readFileSync } from 'node:fs'
import type { Cluster, Redis, Result } from 'ioredis'

const read = (path: string) => readFileSync(new URL(`../lua/${path}`, import.meta.url), 'utf8')

const sources = new Map<string, string>()

/**
 * A script's source, read once. Redis runs each script alone, so pieces several scripts share
 * live in lua/lib and are pasted in where a line says `--#include <file>`.
 */
export function scriptSource(name: string): string {
  let source = sources.get(name)
  if (source === undefined) {
    source = read(`${name}.lua`).replace(/^--#include (\S+)$/gm, (_, lib: string) => read(`lib/${lib}`).trimEnd())
    sources.set(name, source)
  }
  return source
}

/**
 * Every Lua script, registered once per connection with defineCommand; ioredis
 * sends EVALSHA and falls back to EVAL on NOSCRIPT. Each script's header lists
 * its KEYS, ARGV and reply. `numberOfKeys` is omitted where it varies: the
 * caller passes it first.
 */
export const SCRIPTS = {
  smsWindow: { file: 'window', numberOfKeys: 1 },
  smsCount: { file: 'count', numberOfKeys: 1 },
  smsBulk: { file: 'bulk', numberOfKeys: 3 },
  smsReceipt: { file: 'receipt', numberOfKeys: 1 },
  // send.lua and verify.lua carry the deployment's settings in their text (settled-script.ts):
  // defineSendScript and defineVerifyScript register them
  // the sender's own scripts are registered in apps/sender/src/scripts.ts
} as const satisfies Record<string, { file: string, numberOfKeys?: number }>

type Arg = string | number | Buffer
/**
 * Call sites never count positions: beside each script sits one builder of its keys and args
 * and one decoder of its reply (send-script.ts, verify-script.ts, bulk-script.ts,
 * limit-scripts.ts, receipt-script.ts), and the script's header lists the same names in the same order.
 */
declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** args from windowScript.args; the reply goes through windowScript.reply */
    smsWindow(...keysAndArgs: Arg[]): Result<unknown, Context>
    /** args from countScript.args; the reply goes through countScript.reply */
    smsCount(...keysAndArgs: Arg[]): Result<unknown, Context>
    /** keys and args from bulkScript.keys / bulkScript.args; the reply goes through bulkScript.reply */
    smsBulk(...keysAndArgs: Arg[]): Result<unknown, Context>
    /** args from receiptScript.args; the reply goes through receiptScript.reply */
    smsReceipt(...keysAndArgs: Arg[]): Result<unknown, Context>
  }
}

export function defineScripts(client: Redis | Cluster, scripts: Record<string, { file: string, numberOfKeys?: number }> = SCRIPTS): void {
  for (const [name, { file, numberOfKeys }] of Object.entries(scripts)) {
    const lua = scriptSource(file)
    client.defineCommand(name, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys })
  }
}
