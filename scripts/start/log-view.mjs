// How `pnpm start` shows its children's pino lines. On a terminal: one short,
// coloured line per entry, and the console provider's code on a line of its
// own. Otherwise (a pipe, a file, NODE_ENV=production): the JSON lines as the
// processes wrote them, and start's own lines as JSON too, so a log collector
// reads one format.

const LEVELS = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'v'])
const CONSOLE_CODE = /^sms \(console provider\): your (\S+) code is (\d+), valid (\d+) minutes?$/

/** `pretty` unless LOG_FORMAT says otherwise, stdout is no terminal, or NODE_ENV=production. */
export function logFormat(env, stdout) {
  if (env.LOG_FORMAT === 'json' || env.LOG_FORMAT === 'pretty') return env.LOG_FORMAT
  return stdout.isTTY && env.NODE_ENV !== 'production' ? 'pretty' : 'json'
}

const paint = (on) => {
  const wrap = (code) => (text) => (on ? `\u001b[${code}m${text}\u001b[0m` : text)
  return { dim: wrap(2), bold: wrap(1), red: wrap(31), yellow: wrap(33), green: wrap(32), cyan: wrap(36), inverse: wrap('1;7') }
}

const clock = (ms) => new Date(ms).toTimeString().slice(0, 8)

function fieldsOf(entry) {
  const parts = []
  for (const [k, v] of Object.entries(entry)) {
    if (HIDDEN.has(k) || k === 'err') continue
    if (k === 'req' && v && typeof v === 'object') parts.push(`${v.method} ${v.url}`)
    else if (k === 'res' && v && typeof v === 'object') parts.push(String(v.statusCode))
    else if (k === 'responseTime' && typeof v === 'number') parts.push(`${v.toFixed(1)}ms`)
    else parts.push(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
  }
  return parts.join(' ')
}

/**
 * @param {{ format: string, color: boolean, out?: NodeJS.WritableStream, err?: NodeJS.WritableStream }} options
 */
export function createLogView({ format, color, out = process.stdout, err = process.stderr }) {
  const c = paint(color)
  const levelText = (n) => {
    const name = (LEVELS[n] ?? 'info').padEnd(5)
    return n >= 50 ? c.red(name) : n >= 40 ? c.yellow(name) : n >= 30 ? c.green(name) : c.dim(name)
  }
  const tag = (name) => c.cyan(name.padEnd(6))

  /** One line a child wrote; `line` is the raw text, JSON or not. */
  function child(name, line, toErr) {
    if (format === 'json') {
      // pino lines pass as written; anything else (redis-server, a stack trace) becomes one JSON line.
      const text = line.startsWith('{') ? line : JSON.stringify({ level: toErr ? 50 : 30, time: Date.now(), name, msg: line })
      return (toErr ? err : out).write(`${text}\n`)
    }
    let entry
    try { entry = JSON.parse(line) } catch { entry = undefined }
    if (!entry || typeof entry !== 'object' || typeof entry.level !== 'number') {
      return (toErr ? err : out).write(`${c.dim(clock(Date.now()))} ${tag(name)} ${line}\n`)
    }
    const code = typeof entry.msg === 'string' && CONSOLE_CODE.exec(entry.msg)
    if (code) {
      const [, purpose, digits, minutes] = code
      return out.write(`${c.dim(clock(entry.time))} ${tag(name)} ${c.inverse(` SMS code ${digits} `)} for ${entry.mobile ?? 'the number'} (${purpose}, valid ${minutes} min, request ${entry.requestId ?? '-'})\n`)
    }
    const extra = fieldsOf(entry)
    let text = `${c.dim(clock(entry.time ?? Date.now()))} ${tag(name)} ${levelText(entry.level)} ${entry.msg ?? ''}${extra ? ` ${c.dim(extra)}` : ''}\n`
    if (entry.err) text += `${' '.repeat(22)}${c.red(entry.err.stack ?? entry.err.message ?? JSON.stringify(entry.err))}\n`
    ;(entry.level >= 40 ? err : out).write(text)
  }

  /** start's own line; `fields` go to the JSON form only (the pretty form says it in words). */
  function say(msg, { level = 30, fields = {} } = {}) {
    if (format === 'json') return (level >= 40 ? err : out).write(`${JSON.stringify({ level, time: Date.now(), name: 'start', ...fields, msg })}\n`)
    ;(level >= 40 ? err : out).write(`${c.dim(clock(Date.now()))} ${tag('start')} ${level >= 40 ? levelText(level) + ' ' : ''}${msg}\n`)
  }

  /** The next steps, once every part listens. */
  function ready({ api, page, metrics, curl }) {
    if (format === 'json') return say('ready', { fields: { api, docs: `${api}/docs`, page, metrics, curl } })
    out.write([
      '',
      c.bold('  sms-verify is running. Next steps:'),
      '',
      `  1. Ask for a code (it shows up below as ${c.inverse(' SMS code … ')}):`,
      `       ${curl}`,
      `  2. Check it: the same with /v1/sms-codes/verify and "code":"<the code>"`,
      `  3. The API reference:  ${api}/docs`,
      `  4. The sign-up page:   ${page}`,
      '',
      `  Sender metrics on ${metrics}. Ctrl-C stops everything.`,
      '',
    ].join('\n') + '\n')
  }

  return { child, say, ready }
}
