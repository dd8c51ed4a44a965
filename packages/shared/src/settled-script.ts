import { createHash } from 'node:crypto'
import type { RedisClient } from './redis.js'
import { scriptSource } from './scripts.js'

/**
 * Scripts whose deployment settings live in their text (send.lua, verify.lua): each argument a
 * call carries costs Redis about 1,000 instructions to decode, so what every call of a deployment
 * shares is written once, as Lua locals in front of the file, when the app starts.
 */

/** Every setting is a count or a span of ms, so a decimal literal is all its Lua text can be. */
function luaInteger(name: string, value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`script setting ${name} must be a whole number >= 0, not ${value}`)
  return String(value)
}

/**
 * `file` with `numbers` and `strings` as locals in front of it (locals, not a table: a table
 * constructor would run again on every call). Limits a script compares are Lua numbers; spans it
 * hands to Redis are strings, since Redis 7.0 formats a Lua number argument with
 * snprintf("%.17g"), about 3,400 instructions each.
 */
export function settledSource(file: string, numbers: Readonly<Record<string, number>>, strings: Readonly<Record<string, number>>): string {
  const lines = [
    ...Object.entries(numbers).map(([name, v]) => `local ${name} = ${luaInteger(name, v)}`),
    ...Object.entries(strings).map(([name, v]) => `local ${name} = '${luaInteger(name, v)}'`),
  ]
  return `${lines.join('\n')}\n${scriptSource(file)}`
}

type Commands = RedisClient | ReturnType<RedisClient['pipeline']>
/** Runs the script on a client, or queues it on a pipeline (which then returns the pipeline). */
export type ScriptCall = (on: Commands, keys: readonly string[], args: readonly string[]) => unknown

/**
 * Registers `lua` on each client (defineCommand is local: no I/O) under names of its own, so
 * apps with other settings can share a client. Called with `slotKeyCount` keys it has that fixed
 * key count, so ioredis Cluster routes it by KEYS[1]; with any other count it is variadic.
 */
export function defineSettledScript(clients: readonly RedisClient[], name: string, lua: string, slotKeyCount: number): ScriptCall {
  const id = createHash('sha1').update(lua).digest('hex').slice(0, 12)
  const [variadic, routed] = [`${name}_${id}`, `${name}Sharded_${id}`]
  for (const client of clients) {
    if (variadic in client) continue
    client.defineCommand(variadic, { lua })
    client.defineCommand(routed, { lua, numberOfKeys: slotKeyCount })
  }
  type Named = Record<string, (...args: Array<string | number>) => unknown>
  return (on, keys, args) => keys.length === slotKeyCount
    ? (on as unknown as Named)[routed]!(...keys, ...args)
    : (on as unknown as Named)[variadic]!(keys.length, ...keys, ...args)
}
