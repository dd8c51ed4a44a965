import { pino, type DestinationStream, type LoggerOptions } from 'pino'
import { maskMobile, maskMobilesIn } from './mobile.js'

const REDACTED = '[redacted]'

/**
 * An error's own `code` (`ECONNREFUSED`, `ERR_…`, a vendor's error name) is the
 * cause of an outage and must survive the `*.code` path. pino hands the censor
 * `[null, 'code']` for a wildcard match, so the parent cannot be told apart; the
 * value can: a verification code is digits only, so a `code` is kept only when it
 * is a string that starts with a letter; anything else under that name, and every
 * other redacted path (sealed codes, bodies, tokens), is censored.
 */
const NOT_A_VERIFICATION_CODE = /^[A-Za-z][\w.-]*$/
function censor(value: unknown, path: string[]): unknown {
  const keepable = path[path.length - 1] === 'code' && typeof value === 'string' && NOT_A_VERIFICATION_CODE.test(value)
  return keepable ? value : REDACTED
}

let stdout: DestinationStream | undefined

/**
 * Where both processes log: stdout, buffered. Lines gather until 4 KB or 100 ms, whichever
 * comes first, and go out in one write: at info level a write per line was 5 % of a send's
 * CPU (bench/README.md). The write is made on the event loop, not handed to libuv's thread
 * pool: the hand-off and its wake-ups cost more than a 4 KB write to a pipe or a file, about
 * 4 µs a line. A reader that stops reading stdout then holds the process back instead of
 * letting unwritten lines pile up in memory.
 * The buffer is written on exit, an uncaught error included (pino does that only for the
 * thread-pool kind); only a SIGKILL can lose the last 100 ms of lines.
 */
export function bufferedStdout(): DestinationStream {
  if (stdout) return stdout // one buffer and one exit hook per process, however many loggers
  const stream = pino.destination({ dest: 1, sync: true, minLength: 4096, periodicFlush: 100 })
  process.once('exit', () => {
    try {
      stream.flushSync()
    } catch {
      // stdout is gone (EPIPE): there is no one left to tell
    }
  })
  return (stdout = stream)
}

/**
 * One logger configuration for both processes: mobiles masked by serializer,
 * codes and secrets redacted wherever they appear, never by hand at a call site.
 */
export function loggerOptions(level: string, name: string): LoggerOptions {
  return {
    name,
    level,
    redact: {
      paths: ['code', 'sealed', '*.code', '*.sealed', 'req.body', 'body', 'authorization', 'req.headers.authorization', 'params[0]'],
      censor,
    },
    serializers: {
      mobile: (m: unknown) => (typeof m === 'string' ? maskMobile(m) : m),
      mobiles: (ms: unknown) => (Array.isArray(ms) ? ms.map((m) => maskMobile(String(m))) : ms),
      url: (u: unknown) => (typeof u === 'string' ? maskMobilesIn(u) : u),
      err: (err: Error & { code?: unknown }) => ({ type: err.name, message: maskMobilesIn(err.message), code: err.code, stack: err.stack }),
    },
  }
}
