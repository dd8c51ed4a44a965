import type { LoggerOptions } from 'pino'
import { maskMobile, maskMobilesIn } from './mobile.js'

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
      censor: '[redacted]',
    },
    serializers: {
      mobile: (m: unknown) => (typeof m === 'string' ? maskMobile(m) : m),
      mobiles: (ms: unknown) => (Array.isArray(ms) ? ms.map((m) => maskMobile(String(m))) : ms),
      url: (u: unknown) => (typeof u === 'string' ? maskMobilesIn(u) : u),
      err: (err: Error & { code?: unknown }) => ({ type: err.name, message: maskMobilesIn(err.message), code: err.code, stack: err.stack }),
    },
  }
}
