import { readFileSync } from 'node:fs'
import type { RedisClient } from '@sms-verify/shared'
import type { Result } from 'ioredis'

declare module 'ioredis' {
  interface RedisCommander<Context> {
    smsReplay(dead: string, stream: string, request: string, id: string, now: number, requestId: string, ...dropFields: string[]): Result<string | null, Context>
  }
}

const source = readFileSync(new URL('../lua/replay.lua', import.meta.url), 'utf8')

export function defineReplay(redis: RedisClient): void {
  redis.defineCommand('smsReplay', { lua: source, numberOfKeys: 3 })
}
