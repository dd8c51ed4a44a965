import { pino, type DestinationStream, type LoggerOptions } from 'pino'
import { bindingsRedaction, censorCode, censorLogObject } from './log-censor.js'
import { maskMobile, maskMobilesIn } from './mobile.js'

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
 * An error as a line shows it. Its stack repeats its message, so both are masked. Whatever a
 * rejection carried (a string, an array) is logged too, never thrown over.
 */
function serializeError(err: unknown): unknown {
  const masked = (text: unknown) => (typeof text === 'string' ? maskMobilesIn(text) : text)
  if (typeof err !== 'object' || err === null) return masked(err)
  const e = err as { name?: unknown, message?: unknown, code?: unknown, stack?: unknown }
  return { type: e.name, message: masked(e.message), code: e.code === undefined ? undefined : censorCode(e.code), stack: masked(e.stack) }
}

/**
 * One logger configuration for both processes: mobiles masked by serializer, codes and
 * secrets censored wherever they appear (log-censor.ts), never by hand at a call site.
 * A censor that runs on the line's object sees it before the serializers, so the one
 * serializer that can bring a `code` along, an error's, censors it itself.
 * An object interpolated into a message (`%o`, `%j`) gets only pino's top-level names
 * (bindingsRedaction): no call site interpolates one.
 */
export function loggerOptions(level: string, name: string): LoggerOptions {
  return {
    name,
    level,
    formatters: { log: censorLogObject },
    redact: bindingsRedaction,
    serializers: {
      mobile: (m: unknown) => (typeof m === 'string' ? maskMobile(m) : m),
      mobiles: (ms: unknown) => (Array.isArray(ms) ? ms.map((m) => maskMobile(String(m))) : ms),
      url: (u: unknown) => (typeof u === 'string' ? maskMobilesIn(u) : u),
      err: serializeError,
    },
  }
}
