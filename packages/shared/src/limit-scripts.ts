type Arg = string | number

/** ok: a place was taken in the limit; else retryAfterMs says when one frees up (0 when ok). */
export interface LimitResult { readonly ok: boolean, readonly retryAfterMs: number }

const limitReply = (script: string) => (r: unknown): LimitResult => {
  const [taken, wait] = r as [number, number | undefined]
  if (taken === 1) return { ok: true, retryAfterMs: 0 }
  if (taken === 0) return { ok: false, retryAfterMs: Number(wait) }
  throw new Error(`${script} answered ${String(taken)}`)
}

/** window.lua's KEYS and ARGV, in its header's order. */
export interface WindowInput {
  readonly window: string
  readonly now: number
  readonly windowMs: number
  readonly limit: number
  /** the place to take: the request id, so a refused send can give it back with ZREM */
  readonly member: string
}

/** The one place that knows window.lua's positions. */
export const windowScript = {
  args: (i: WindowInput): Arg[] => [i.window, i.now, i.windowMs, i.limit, i.member, i.now - i.windowMs],
  reply: limitReply('window.lua'),
}

/** count.lua's KEYS and ARGV, in its header's order. */
export interface CountInput {
  readonly counter: string
  readonly limit: number
  readonly windowMs: number
}

/** The one place that knows count.lua's positions. */
export const countScript = {
  args: (i: CountInput): Arg[] => [i.counter, i.limit, i.windowMs],
  reply: limitReply('count.lua'),
}
