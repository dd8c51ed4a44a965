import { GROUP, clusterMode, type Config, type Partition, type RedisClient } from '@sms-verify/shared'
import type { Cluster, Redis } from 'ioredis'
import type { Logger } from 'pino'
import { until } from './deadline.js'
import { isNoGroup } from './stream.js'
import { entryOf, type Entry } from './window.js'

/**
 * The reader: XREADGROUP of new entries, blocking (the loop, while the sender runs) or not
 * (tick()). It owns the read groups, their blocking connections and the parsing of replies;
 * it may not lease, send or ack: what it reads goes to `take`, and how much it reads is the
 * window's `room`.
 */
export interface ReaderOptions {
  readonly config: Config
  readonly redis: RedisClient
  /** see SenderOptions.blockingRedis */
  readonly blockingRedis?: RedisClient | undefined
  readonly consumer: string
  readonly partitions: readonly Partition[]
  readonly logger: Logger
  /** the most one read takes */
  readonly readBatch: number
  /** how many entries a blocking read may take now (0: none) */
  readonly room: () => number
  readonly paused: () => boolean
  /** entries read; returns how many were taken (not already held) */
  readonly take: (entries: Entry[]) => number
  /** NOGROUP: the group is gone (Redis lost its data?); create it again */
  readonly recreateGroups: () => Promise<void>
}

/** Blocking reads: standalone one group naming every stream; cluster one per partition, each on its own connection. */
interface ReadGroup {
  readonly streams: string[]
  client: RedisClient | undefined
  reading: Promise<void> | undefined
  /** the last read came back full: more is likely waiting */
  hot: boolean
  failures: number
}
type Items = Array<[id: string, fields: string[] | null]>
/** RESP2 answers [[stream, items], …]; RESP3 (ioredis 6's default) a map, flattened to [stream, items, …]. */
type StreamReply = Array<[string, Items]> | Array<string | Items> | null

export class Reader {
  readonly #o: ReaderOptions
  readonly #groups: ReadGroup[]
  readonly #byStream: Map<string, Partition>
  readonly #sleepers = new Set<() => void>()
  #running = false
  #loop: Promise<void> | undefined
  #wakeLoop: (() => void) | undefined

  constructor(options: ReaderOptions) {
    this.#o = options
    const group = (partitions: readonly Partition[]): ReadGroup =>
      ({ streams: partitions.map((p) => p.stream), client: undefined, reading: undefined, hot: true, failures: 0 })
    this.#groups = clusterMode(options.config) ? options.partitions.map((p) => group([p])) : [group(options.partitions)]
    this.#byStream = new Map(options.partitions.map((p) => [p.stream, p]))
  }

  /** Starts the loop of blocking reads. */
  start(): void {
    this.#running = true
    this.#loop = this.#run()
  }

  /** The window has room again, or the read-ahead ran dry: read now. */
  wake(): void {
    const wake = this.#wakeLoop
    if (wake) { this.#wakeLoop = undefined; wake() }
  }

  /**
   * No new reads; reads in flight return within SENDER_BLOCK_MS, and past `deadline` (less a
   * margin) they are cut off: their entries stay pending for a claim.
   */
  async stop(deadline: number): Promise<void> {
    this.#running = false
    this.wake()
    for (const wake of this.#sleepers) wake()
    const reads = Promise.all([this.#loop, ...this.#groups.map((g) => g.reading)])
    if (await until(reads, deadline - 100) === 'late') {
      this.#o.logger.warn('sender close: a blocked read outlived the deadline; cut off')
      this.close()
    }
  }

  /** Closes the blocking connections this reader made. */
  close(): void {
    for (const g of this.#groups) if (g.client && g.client !== this.#o.blockingRedis) g.client.disconnect()
  }

  /** A read without BLOCK on the command connection (tick()); cluster reads of all partitions are independent. */
  async readNow(room: number): Promise<number> {
    if (this.#o.paused()) return 0
    const results = await Promise.allSettled(this.#groups.map(async (g) => {
      const count = Math.max(1, Math.ceil(room / this.#groups.length))
      const reply = await this.#o.redis.call('XREADGROUP', 'GROUP', GROUP, this.#o.consumer, 'COUNT', count,
        'STREAMS', ...g.streams, ...g.streams.map(() => '>')) as StreamReply
      return this.#o.take(this.#entries(reply))
    }))
    let taken = 0
    for (const r of results) {
      if (r.status === 'fulfilled') taken += r.value
      else this.#o.logger.warn({ err: r.reason }, 'reading a partition failed')
    }
    return taken
  }

  /**
   * Keeps one blocking XREADGROUP outstanding per read group while the window
   * has room. A read returns at once when entries wait, else after
   * SENDER_BLOCK_MS; nothing polls.
   */
  async #run(): Promise<void> {
    while (this.#running) {
      for (const g of this.#o.paused() ? [] : this.#groups) {
        const room = this.#o.room()
        if (room <= 0) break
        if (!g.reading) g.reading = this.#read(g, Math.min(this.#o.readBatch, g.hot ? room : Math.ceil(room / this.#groups.length)))
      }
      await new Promise<void>((resolve) => { this.#wakeLoop = resolve })
    }
  }

  async #read(g: ReadGroup, count: number): Promise<void> {
    try {
      const reply = await this.#blockingClient(g).call('XREADGROUP', 'GROUP', GROUP, this.#o.consumer, 'COUNT', count,
        'BLOCK', this.#o.config.SENDER_BLOCK_MS, 'STREAMS', ...g.streams, ...g.streams.map(() => '>')) as StreamReply
      const entries = this.#entries(reply)
      g.hot = entries.length >= count
      g.failures = 0
      if (entries.length > 0) this.#o.take(entries)
    } catch (err) {
      if (this.#running) await this.#readFailed(g, err)
    } finally {
      g.reading = undefined
      this.wake()
    }
  }

  async #readFailed(g: ReadGroup, err: unknown): Promise<void> {
    const log = this.#o.logger
    if (isNoGroup(err)) {
      log.warn({ err }, 'consumer group missing (Redis lost its data?): recreating it')
      await this.#o.recreateGroups().catch((e: unknown) => log.error({ err: e }, 'could not recreate the consumer group'))
    } else {
      g.failures++
      if (g.failures === 1 || g.failures % 50 === 0) log.error({ err, failures: g.failures }, 'reading the stream failed; retrying')
    }
    await this.#sleep(Math.min(100 * Math.max(1, g.failures), 1000))
  }

  #entries(reply: StreamReply): Entry[] {
    const out: Entry[] = []
    if (!reply) return out
    const pairs: Array<[string, Items]> = typeof reply[0] === 'string'
      ? Array.from({ length: reply.length / 2 }, (_, i) => [reply[2 * i] as string, reply[2 * i + 1] as Items])
      : reply as Array<[string, Items]>
    for (const [stream, items] of pairs) {
      const p = this.#byStream.get(stream)
      if (p) for (const [id, fields] of items) out.push(entryOf(p, id, fields))
    }
    return out
  }

  #blockingClient(g: ReadGroup): RedisClient {
    if (!g.client) {
      if (this.#o.blockingRedis && this.#groups.length === 1) {
        g.client = this.#o.blockingRedis
      } else {
        // A dedicated connection per group: blocked reads never wait behind each other or behind commands.
        const client = clusterMode(this.#o.config)
          // No periodic slot refresh per read connection (each opens a connection for CLUSTER SLOTS):
          // a moved slot or a lost master still triggers one, and the command client refreshes anyway.
          ? (this.#o.redis as Cluster).duplicate([], { enableAutoPipelining: false, slotsRefreshInterval: 0 })
          : (this.#o.redis as Redis).duplicate({ enableAutoPipelining: false })
        let down = false
        client.on('error', (err: Error) => { if (!down && this.#running) this.#o.logger.warn({ err }, 'blocking read connection error; reconnecting'); down = true })
        client.on('ready', () => { down = false })
        g.client = client
      }
    }
    return g.client
  }

  /** A pause that stop() cuts short. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => { clearTimeout(t); this.#sleepers.delete(done); resolve() }
      const t = setTimeout(done, ms)
      this.#sleepers.add(done)
    })
  }
}
