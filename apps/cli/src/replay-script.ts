import { readFileSync } from 'node:fs'
import { DEAD_LETTER_ONLY, type RedisClient } from '@sms-verify/shared'
import type { Result } from 'ioredis'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** keys and args from replayScript.args; the reply goes through replayScript.reply */
    smsReplay(...keysAndArgs: Array<string | number>): Result<string | null, Context>
  }
}

const source = readFileSync(new URL('../lua/replay.lua', import.meta.url), 'utf8')

export function defineReplay(redis: RedisClient): void {
  redis.defineCommand('smsReplay', { lua: source, numberOfKeys: 3 })
}

/** replay.lua's KEYS and ARGV, in its header's order. */
export interface ReplayInput {
  readonly deadStream: string
  readonly stream: string
  /** the request's status record (a placeholder in the same slot for a letter without a request id) */
  readonly request: string
  readonly deadEntryId: string
  readonly now: number
  /** the request the letter must still belong to ('' = none) */
  readonly requestId: string
}

/** The one place that knows replay.lua's positions: the dead letter's own fields are dropped (DEAD_LETTER_ONLY). */
export const replayScript = {
  args: (i: ReplayInput): Array<string | number> => [i.deadStream, i.stream, i.request, i.deadEntryId, i.now, i.requestId, ...DEAD_LETTER_ONLY],
  /** the new stream entry id; undefined when the letter is gone (replayed or purged) or belongs to another request */
  reply: (r: string | null): string | undefined => r ?? undefined,
}
