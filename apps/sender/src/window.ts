import type { Job, Partition } from '@sms-verify/shared'

/** A stream entry this process holds: read or claimed, until it is let go. `fields` is null for an entry deleted meanwhile. */
export interface Entry { readonly p: Partition, readonly id: string, readonly fields: string[] | null, readonly key: string }
/** An entry whose lease this handling holds. */
export interface Leased { readonly e: Entry, readonly job: Job, readonly token: string, readonly base: number }
/**
 * Leased ahead of a free slot. `readyAt` (epoch ms): when the lease call answered. A call starting
 * then has the lease a call always had; one that waited longer renews it first.
 */
export interface Ready extends Leased { readonly readyAt: number }
/** An entry on its way to lease.lua; `token` when it renews this handling's own lease. */
export interface ToLease { readonly e: Entry, readonly token?: string | undefined }

export const entryOf = (p: Partition, id: string, fields: string[] | null): Entry => ({ p, id, fields, key: `${p.index}/${id}` })

export interface WindowSize {
  /** SENDER_CONCURRENCY: provider calls in flight at most */
  readonly concurrency: number
  /** the most one read takes; the window reads and leases ahead by this much */
  readonly readBatch: number
}

/**
 * The send window: the bookkeeping of every stream entry this process holds, from the read or
 * claim that took it until it is let go. It owns the buffers, the counters and the idle waiters;
 * it may not touch Redis, a provider or a timer (the sender acts on what it hands out), so it is
 * tested without Redis (test/window.test.ts).
 *
 * Invariant: every entry held (a key in #holding, so no claim hands it out twice) is in exactly
 * one of these places, and leaves #holding when it leaves the last of them:
 *   reclaimed   taken over from a peer (XAUTOCLAIM), not yet leasing; leased before fresh ones
 *   fresh       read (XREADGROUP), not yet leasing
 *   leasing     in a lease.lua call on its way (new, or renewing a ready job's lease)
 *   ready       leased ahead, waiting for a free slot
 *   active      in the window: calling a provider, or writing an ack, retry or dead letter
 *   unfinished  accepted by a provider, its completion (finish.lua) not yet written: out of
 *               the window (no call in flight), still held
 */
export class SendWindow {
  readonly #size: WindowSize
  readonly #holding = new Set<string>()
  #reclaimed: Entry[] = []
  #fresh: Entry[] = []
  #leasing = 0
  /**
   * Leased ahead, waiting for a slot: a slot that frees starts its next call at once instead
   * of waiting a lease round trip (with a 20 ms provider that wait kept about 7 of 64 slots idle).
   */
  #ready: Ready[] = []
  #active = 0
  #unfinished = 0
  readonly #idleWaiters: Array<() => void> = []

  constructor(size: WindowSize) { this.#size = size }

  get held(): number { return this.#holding.size }
  get reclaimed(): number { return this.#reclaimed.length }
  get fresh(): number { return this.#fresh.length }
  get leasing(): number { return this.#leasing }
  get ready(): number { return this.#ready.length }
  get active(): number { return this.#active }
  get unfinished(): number { return this.#unfinished }
  /** Jobs in the window (sending or writing their end) or writing their completion. */
  get inFlight(): number { return this.#active + this.#unfinished }
  /** Entries held that have not started: read, being leased, or leased ahead. */
  get buffered(): number { return this.#reclaimed.length + this.#fresh.length + this.#leasing + this.#ready.length }

  /**
   * Room for new reads: the window plus a read-ahead of one read batch, less what is active or
   * buffered; so a slot that frees up is refilled without waiting for a read. Accepted jobs
   * whose completion is still being written are outside the window (no send in flight), but
   * more than a window of them holds reading back.
   */
  room(): number {
    const { concurrency, readBatch } = this.#size
    const backlog = this.#unfinished > concurrency ? this.#unfinished - concurrency : 0
    return concurrency + readBatch - this.#active - this.#ready.length - this.#leasing - this.#reclaimed.length - this.#fresh.length - backlog
  }

  /** room() for a blocking read, or 0 while the read-ahead still holds entries and the room is too small for a worthwhile batch. */
  roomForRead(): number {
    const room = this.room()
    if (room < this.#size.readBatch / 2 && this.#reclaimed.length + this.#fresh.length + this.#ready.length > 0) return 0
    return Math.max(0, room)
  }

  /** Takes entries into the buffer, skipping those already held. Returns how many it took. */
  take(entries: readonly Entry[], reclaimed: boolean): number {
    const into = reclaimed ? this.#reclaimed : this.#fresh
    let taken = 0
    for (const e of entries) {
      if (this.#holding.has(e.key)) continue
      this.#holding.add(e.key)
      into.push(e)
      taken++
    }
    return taken
  }

  /** Whether a ready job may start: a slot is free and one waits. */
  canStart(): boolean { return this.#active < this.#size.concurrency && this.#ready.length > 0 }

  /**
   * The next ready job (call only when canStart()): it starts (ready → active), or, when it
   * waited longer than `freshMs` since its lease, goes to renew its lease first (ready → leasing).
   */
  startNext(now: number, freshMs: number): { kind: 'start', job: Ready } | { kind: 'renew', item: ToLease } {
    const h = this.#ready.shift()!
    if (now - h.readyAt > freshMs) {
      this.#leasing++
      return { kind: 'renew', item: { e: h.e, token: h.token } }
    }
    this.#active++
    return { kind: 'start', job: h }
  }

  /**
   * Buffered entries to lease now (buffered → leasing), reclaimed ones first: enough for every
   * free slot plus a read batch in waiting. While ahead, only in worthwhile batches of half a
   * read batch (a lease call per freed slot costs more than it brings); while slots would
   * otherwise wait, `want` exceeds a read batch, so they are leased at once. `renewing`: how
   * many startNext() just sent to renew (already counted as leasing): their call goes anyway.
   */
  toLease(renewing: number): Entry[] {
    const { concurrency, readBatch } = this.#size
    const want = concurrency - this.#active + readBatch - this.#ready.length - this.#leasing
    if (want <= 0 || (want < readBatch / 2 && renewing === 0)) return []
    const out = this.#reclaimed.splice(0, want)
    if (out.length < want) out.push(...this.#fresh.splice(0, want - out.length))
    this.#leasing += out.length
    return out
  }

  /** leasing → ready */
  leased(h: Ready): void {
    this.#leasing--
    this.#ready.push(h)
  }

  /** leasing → let go: acked by the lease call, or left pending for a claim. */
  letGo(e: Entry): void {
    this.#leasing--
    this.#holding.delete(e.key)
    this.#resolveIdle()
  }

  /** leasing → active: its handling is a Redis write (an ack, a dead letter) that takes a place in the window until it ends. */
  startSide(): void {
    this.#leasing--
    this.#active++
  }

  /** active → let go: its end is written, or it was left pending for a claim. */
  release(e: Entry): void {
    this.#active--
    this.#holding.delete(e.key)
    this.#resolveIdle()
  }

  /** active → unfinished: a provider accepted it; its completion is on its way. */
  accepted(): void {
    this.#active--
    this.#unfinished++
  }

  /** unfinished → let go: their completions are written (or given up at the shutdown deadline). */
  finished(entries: readonly Entry[]): void {
    for (const e of entries) this.#holding.delete(e.key)
    this.#unfinished -= entries.length
    this.#resolveIdle()
  }

  /**
   * Everything held that has not started (buffered and ready) → let go, for handing back
   * (close, pause). Entries in a lease call stay: await those calls first. `ready` need their
   * leases given back; `entries` (the ready ones' included) go back to the group.
   */
  handBack(): { ready: Ready[], entries: Entry[] } {
    const ready = this.#ready.splice(0)
    const entries = [...this.#reclaimed.splice(0), ...this.#fresh.splice(0), ...ready.map((h) => h.e)]
    for (const e of entries) this.#holding.delete(e.key)
    this.#resolveIdle()
    return { ready, entries }
  }

  /**
   * Resolves once nothing is in flight and nothing buffered. `ignoreBuffered` (a stopped sender
   * that runs no tick): resolves at once when nothing is in flight, whatever is buffered.
   */
  whenIdle(ignoreBuffered: boolean): Promise<void> {
    if (this.inFlight === 0 && (this.buffered === 0 || ignoreBuffered)) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  #resolveIdle(): void {
    if (this.#idleWaiters.length > 0 && this.inFlight === 0 && this.buffered === 0) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve()
    }
  }
}

/** `items` grouped by the partition of their entry. */
export function byPartition<T>(items: readonly T[], entryOf: (item: T) => Entry): Map<Partition, T[]> {
  const groups = new Map<Partition, T[]>()
  for (const item of items) {
    const p = entryOf(item).p
    const list = groups.get(p)
    if (list) list.push(item); else groups.set(p, [item])
  }
  return groups
}
