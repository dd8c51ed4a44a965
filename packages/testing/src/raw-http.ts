import { connect, type Socket } from 'node:net'

/**
 * A deliberately dumb HTTP/1.1 client for tests of the edge: it writes the
 * bytes it is given, nothing more, and reads what comes back. fetch and
 * undici repair or refuse the malformed requests these tests are about, and
 * hide how a connection ended (a reset before the answer is exactly what the
 * tests look for).
 */

export interface RawResponse {
  readonly status: number
  readonly reason: string
  /** lower-case names; a repeated header's values joined with ', ' */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer
  text(): string
  json(): unknown
}

/** How the connection stood when a read finished: still open, closed by the server (FIN), or reset (RST, EPIPE). */
export type RawEnd = 'open' | 'closed' | 'reset'

export interface RawExchange {
  /** the final (non-1xx) answer, when a complete one arrived */
  readonly response: RawResponse | undefined
  /** 1xx answers seen before it */
  readonly interim: readonly RawResponse[]
  readonly end: RawEnd
  /** every byte the server sent */
  readonly received: Buffer
}

const HEADER_END = Buffer.from('\r\n\r\n')

interface Parsed { response: RawResponse, length: number }

/** The first complete response in `data`, or undefined while more bytes are needed (`eof`: the server closed). */
export function parseResponse(data: Buffer, { eof = false, head = false } = {}): Parsed | undefined {
  const headEnd = data.indexOf(HEADER_END)
  if (headEnd === -1) return undefined
  const lines = data.subarray(0, headEnd).toString('latin1').split('\r\n')
  const statusLine = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? '')
  if (!statusLine) throw new Error(`not an HTTP status line: ${JSON.stringify(lines[0]?.slice(0, 80))}`)
  const status = Number(statusLine[1])
  const headers: Record<string, string> = {}
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    if (colon <= 0) throw new Error(`malformed header line: ${JSON.stringify(line.slice(0, 80))}`)
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value
  }
  const bodyStart = headEnd + HEADER_END.length
  const done = (body: Buffer, length: number): Parsed => ({
    length,
    response: { status, reason: statusLine[2] ?? '', headers, body, text: () => body.toString('utf8'), json: () => JSON.parse(body.toString('utf8')) },
  })
  if (head || status < 200 || status === 204 || status === 304) return done(Buffer.alloc(0), bodyStart)
  if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) return dechunk(data, bodyStart, done)
  if (headers['content-length'] !== undefined) {
    const size = Number(headers['content-length'])
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`bad content-length ${headers['content-length']}`)
    if (data.length - bodyStart < size) return undefined
    return done(data.subarray(bodyStart, bodyStart + size), bodyStart + size)
  }
  // No framing: the body runs to the close.
  return eof ? done(data.subarray(bodyStart), data.length) : undefined
}

function dechunk(data: Buffer, start: number, done: (body: Buffer, length: number) => Parsed): Parsed | undefined {
  const parts: Buffer[] = []
  let at = start
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at)
    if (lineEnd === -1) return undefined
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16)
    if (Number.isNaN(size)) throw new Error('bad chunk size')
    if (size === 0) {
      const trailerEnd = data.indexOf(HEADER_END, lineEnd)
      const end = data.subarray(lineEnd, lineEnd + 4).equals(HEADER_END) ? lineEnd + 4 : trailerEnd === -1 ? -1 : trailerEnd + 4
      return end === -1 ? undefined : done(Buffer.concat(parts), end)
    }
    if (data.length < lineEnd + 2 + size + 2) return undefined
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size))
    at = lineEnd + 2 + size + 2
  }
}

/** One TCP connection to a server: write raw bytes, wait for responses or for the connection to end. */
export class RawHttpConnection {
  #received: Buffer = Buffer.alloc(0)
  #consumed = 0
  #end: RawEnd = 'open'
  #changed: Array<() => void> = []

  private constructor(private readonly socket: Socket, private readonly head: boolean) {
    socket.on('data', (chunk: Buffer) => { this.#received = Buffer.concat([this.#received, chunk]); this.#notify() })
    socket.on('end', () => { if (this.#end === 'open') this.#end = 'closed'; this.#notify() })
    socket.on('error', () => { this.#end = 'reset'; this.#notify() })
    socket.on('close', () => { if (this.#end === 'open') this.#end = 'closed'; this.#notify() })
  }

  /** `head`: the request is a HEAD, so responses carry no body whatever their headers say. */
  static open(port: number, { host = '127.0.0.1', head = false } = {}): Promise<RawHttpConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host, allowHalfOpen: true })
      socket.once('connect', () => { socket.off('error', reject); resolve(new RawHttpConnection(socket, head)) })
      socket.once('error', reject)
    })
  }

  get end(): RawEnd { return this.#end }
  get received(): Buffer { return this.#received }

  /** Resolves true once the bytes are handed to the kernel, false if the connection failed first (EPIPE, reset). */
  write(data: string | Buffer): Promise<boolean> {
    if (this.socket.destroyed || !this.socket.writable) return Promise.resolve(false)
    return new Promise((resolve) => this.socket.write(data, (err) => resolve(!err)))
  }

  /** Half-close: the server sees the end of the request stream. */
  finish(): void { this.socket.end() }

  destroy(): void { this.socket.destroy() }

  /**
   * The next response (1xx included) not returned before, or undefined when
   * the connection ended without one. Throws when neither happens within `timeout` ms.
   */
  async next({ timeout = 10_000 } = {}): Promise<RawResponse | undefined> {
    const deadline = Date.now() + timeout
    for (;;) {
      const rest = this.#received.subarray(this.#consumed)
      const parsed = parseResponse(rest, { eof: this.#end !== 'open', head: this.head })
      if (parsed) {
        this.#consumed += parsed.length
        return parsed.response
      }
      if (this.#end !== 'open') return undefined
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no complete response within ${timeout} ms; received ${JSON.stringify(rest.toString('latin1').slice(0, 300))}`)
      await this.#wait(left)
    }
  }

  /** The final response, skipping (and returning) interim 1xx ones. */
  async final({ timeout = 10_000 } = {}): Promise<{ response: RawResponse | undefined, interim: RawResponse[] }> {
    const deadline = Date.now() + timeout
    const interim: RawResponse[] = []
    for (;;) {
      const response = await this.next({ timeout: Math.max(1, deadline - Date.now()) })
      if (!response || response.status >= 200) return { response, interim }
      interim.push(response)
    }
  }

  /** True when, `ms` later, the server has sent nothing (since the call) and the connection is still open. */
  async silentFor(ms: number): Promise<boolean> {
    const before = this.#received.length
    const deadline = Date.now() + ms
    while (this.#received.length === before && this.#end === 'open') {
      const left = deadline - Date.now()
      if (left <= 0) return true
      await this.#wait(left)
    }
    return false
  }

  /** Waits until the server closes or resets the connection; throws after `timeout` ms. */
  async ended({ timeout = 10_000 } = {}): Promise<Exclude<RawEnd, 'open'>> {
    const deadline = Date.now() + timeout
    while (this.#end === 'open') {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`connection still open after ${timeout} ms`)
      await this.#wait(left)
    }
    return this.#end
  }

  #notify(): void {
    const waiting = this.#changed
    this.#changed = []
    for (const wake of waiting) wake()
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.#changed.push(() => { clearTimeout(timer); resolve() })
    })
  }
}

/**
 * Connect, write `request` (one piece or several, in order), half-close if
 * nothing came back `finishAfter` ms later (so a server waiting for the rest
 * of a cut-off request sees its end), and read until a complete final
 * response arrives or the connection ends; then close. `head`: the request is a HEAD (its answer has no body). Throws
 * when neither happens within `timeout` ms: a hang is a failure, not an outcome.
 */
export async function rawExchange(port: number, request: string | Buffer | ReadonlyArray<string | Buffer>,
  { timeout = 10_000, host = '127.0.0.1', head = false, finishAfter = undefined as number | undefined } = {}): Promise<RawExchange> {
  const connection = await RawHttpConnection.open(port, { host, head })
  try {
    const writing = (async () => {
      for (const piece of typeof request === 'string' || Buffer.isBuffer(request) ? [request] : request) {
        if (!(await connection.write(piece))) return
      }
      if (finishAfter === undefined) return
      // Half-close only if no answer came meanwhile: Node ends a connection whose client half-closed, answer or not.
      if (await connection.silentFor(finishAfter)) connection.finish()
    })()
    // Not awaited: a server that answers early may never read the rest, and the answer is what counts.
    void writing
    const { response, interim } = await connection.final({ timeout })
    return { response, interim, end: connection.end, received: connection.received }
  } finally {
    connection.destroy()
  }
}
