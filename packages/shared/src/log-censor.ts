/**
 * What the logs censor: codes, sealed codes, bodies and credentials, wherever a log call puts
 * them. Both processes' loggers run every line's object through `censorLogObject`, and a child
 * logger's bindings through `bindingsRedaction` (logger.ts), so no call site censors by hand.
 *
 * Why not pino's own `redact`: pino 10 runs it through @pinojs/redact, which for a wildcard path
 * (`*.code`) parses every path again and clones for every key of every line. On the send
 * route's access line that was a third of the line's cost and 8 KB of garbage a request
 * (bench/README.md). This walks the object once and copies only what it censors.
 */

const REDACTED = '[redacted]'

/**
 * An error's own `code` (`ECONNREFUSED`, `ERR_…`, a vendor's error name) is the cause of an
 * outage and must survive. A verification code is digits only, so a `code` is kept only when
 * it is a string that starts with a letter; anything else under that name is censored.
 */
const NOT_A_VERIFICATION_CODE = /^[A-Za-z][\w.-]*$/
export const censorCode = (value: unknown): unknown =>
  typeof value === 'string' && NOT_A_VERIFICATION_CODE.test(value) ? value : REDACTED

/** Keys censored at every depth searched: `code` by censorCode, `sealed` whatever its value. */
const ANYWHERE: ReadonlyMap<string, (value: unknown) => unknown> = new Map([['code', censorCode], ['sealed', () => REDACTED]])
/** Where else a name is censored, whatever its value (`true`), by its path from the line. */
type Paths = ReadonlyMap<string, Paths | true>
const PATHS: Paths = new Map<string, Paths | true>([
  ['body', true],
  ['authorization', true],
  // a logged request's body and credential
  ['req', new Map<string, Paths | true>([['body', true], ['headers', new Map([['authorization', true]])]])],
  // a route's wildcard parameter
  ['params', new Map([['0', true]])],
])
/** How deep plain objects are searched: deeper than any line the services write. */
const MAX_DEPTH = 6

/** A plain object or an array: what a log call builds. Class instances (a Fastify request, an Error) go through their serializers. */
function isPlain(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  if (Array.isArray(value)) return true
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * `obj` with every secret censored: the same object when it holds none (the common case, no
 * allocation), else a copy, copied only along the paths that changed; the caller's object is
 * never modified.
 */
export function censorLogObject<T extends object>(obj: T): T {
  return censorIn(obj as Record<string, unknown>, 0, PATHS) as T
}

function censorIn(obj: Record<string, unknown>, depth: number, paths: Paths | undefined): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined
  for (const key in obj) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) continue
    const value = obj[key]
    let next = value
    const censor = ANYWHERE.get(key)
    const path = paths?.get(key)
    if (censor) next = censor(value)
    else if (path === true) next = REDACTED
    else if (depth < MAX_DEPTH && isPlain(value)) next = censorIn(value, depth + 1, path)
    if (next !== value) {
      copy ??= Array.isArray(obj) ? [...obj] as unknown as Record<string, unknown> : { ...obj }
      copy[key] = next
    }
  }
  return copy ?? obj
}

/**
 * pino's own `redact`, for what `censorLogObject` never sees: a child logger's bindings, which
 * pino serializes once, when the child is made. Top-level names only: a literal path costs a
 * line nothing unless the line has that key, where a wildcard costs every key of every line.
 * Bindings are fixed names in this codebase (`provider`, Fastify's `reqId`), never a nested object.
 */
export const bindingsRedaction = {
  // and the names PATHS censors on the line itself: body, authorization
  paths: ['code', 'sealed', ...[...PATHS].filter(([, path]) => path === true).map(([name]) => name)],
  censor: (value: unknown, path: string[]): unknown => (path[0] === 'code' ? censorCode(value) : REDACTED),
}
