import { partition, type CodeJob } from '@sms-verify/shared'
import fc from 'fast-check'
import t from 'tap'
import { SendWindow, entryOf, type Entry, type Ready, type ToLease } from '../src/window.js'

// The send window without Redis: random sequences of take / start / lease / release / finish /
// hand back, checked against a model that keeps every entry in a list per place. After each
// step the window's counters must match the model, every held entry is in exactly one place,
// and room() means what it says. WINDOW_RUNS and WINDOW_SEED replay a run.
const RUNS = Number(process.env.WINDOW_RUNS ?? 300)
const SEED = Number(process.env.WINDOW_SEED ?? Date.now() % 2 ** 31)

const p0 = partition(0, 1, false)
const job: CodeJob = {
  v: 1, kind: 'code', requestId: 'r', mobile: '+8613800000000', purpose: 'login', code: '123456', createdAt: 0, expiresAt: 300_000, attempts: 0,
}

type Op =
  /** `count` new entries, plus `again` entries already held (a claim that returns them again) */
  | { kind: 'take', count: number, again: number, reclaimed: boolean }
  /** what the sender's pump does: start ready jobs while `admits` allows, then lease ahead */
  | { kind: 'pump', admits: number, advance: number, freshMs: number }
  /** a lease call answers for one leasing entry */
  | { kind: 'leaseReply', pick: number, verdict: 'leased' | 'letGo' | 'side' }
  /** an active entry's handling ends */
  | { kind: 'end', pick: number, accepted: boolean }
  /** a completion batch is written */
  | { kind: 'finish', count: number }
  | { kind: 'handBack' }
  /** someone waits for the window to be idle */
  | { kind: 'wait' }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('take' as const), count: fc.nat(12), again: fc.nat(3), reclaimed: fc.boolean() }),
  // Coarse times, so a ready job often waited exactly freshMs (not stale yet).
  { arbitrary: fc.record({ kind: fc.constant('pump' as const), admits: fc.nat(10), advance: fc.constantFrom(0, 5, 10, 20), freshMs: fc.constantFrom(5, 10, 15) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('leaseReply' as const), pick: fc.nat(), verdict: fc.constantFrom('leased' as const, 'letGo' as const, 'side' as const) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('end' as const), pick: fc.nat(), accepted: fc.boolean() }), weight: 2 },
  // Completions lag behind, so accepted jobs pile up past a window (room() counts that backlog).
  { arbitrary: fc.record({ kind: fc.constant('finish' as const), count: fc.nat(2) }), weight: 1 },
  fc.constant({ kind: 'handBack' as const }),
  fc.constant({ kind: 'wait' as const }),
)
const size = fc.record({ concurrency: fc.integer({ min: 1, max: 6 }), readBatch: fc.integer({ min: 1, max: 8 }) })

interface Model {
  reclaimed: Entry[], fresh: Entry[], leasing: ToLease[], ready: Ready[], active: Entry[], unfinished: Entry[]
}
interface Waiter { resolved: boolean, sawIdle: boolean }

const keysOf = (entries: readonly { key: string }[]) => entries.map((e) => e.key)
const takeAt = <T>(list: T[], pick: number): T => list.splice(pick % list.length, 1)[0]!

async function run(sizes: { concurrency: number, readBatch: number }, ops: Op[]): Promise<void> {
  const { concurrency: C, readBatch: B } = sizes
  const w = new SendWindow(sizes)
  const m: Model = { reclaimed: [], fresh: [], leasing: [], ready: [], active: [], unfinished: [] }
  const waiters: Waiter[] = []
  let next = 0
  let clock = 1000
  const fail = (step: number, what: string): never => { throw new Error(`step ${step} (${JSON.stringify(ops[step])}): ${what}`) }
  const expect = (step: number, ok: boolean, what: string) => { if (!ok) fail(step, what) }
  const bufferedOf = () => m.reclaimed.length + m.fresh.length + m.leasing.length + m.ready.length
  const idle = () => m.active.length + m.unfinished.length === 0 && bufferedOf() === 0

  for (let step = 0; step < ops.length; step++) {
    const o = ops[step]!
    switch (o.kind) {
      case 'take': {
        const fresh = Array.from({ length: o.count }, () => entryOf(p0, `${++next}-0`, []))
        const held = [...m.reclaimed, ...m.fresh, ...m.active].slice(0, o.again).map((e) => entryOf(p0, e.id, []))
        const roomBefore = w.room()
        const taken = w.take([...held, ...fresh], o.reclaimed)
        expect(step, taken === fresh.length, `took ${taken} of ${fresh.length} new entries: a held entry was taken twice`)
        expect(step, w.room() === roomBefore - taken, 'room() did not shrink by what was taken')
        ;(o.reclaimed ? m.reclaimed : m.fresh).push(...fresh)
        break
      }
      case 'pump': {
        clock += o.advance
        let admits = o.admits
        const renew: ToLease[] = []
        while (w.canStart() && admits-- > 0) {
          const head = m.ready[0]!
          const activeBefore = m.active.length
          const n = w.startNext(clock, o.freshMs)
          const stale = clock - head.readyAt > o.freshMs
          m.ready.shift()
          if (n.kind === 'renew') {
            expect(step, stale && n.item.e.key === head.e.key && n.item.token === head.token, 'renewed the wrong job, or a fresh one')
            renew.push(n.item)
            m.leasing.push(n.item)
          } else {
            expect(step, !stale && n.job === head, 'started the wrong job, or a stale one')
            expect(step, activeBefore < C, 'started a job with no free slot')
            m.active.push(n.job.e)
          }
        }
        // Every free slot plus a read batch, in batches of at least half a read batch unless a renewal goes anyway.
        const want = C - m.active.length + B - m.ready.length - m.leasing.length
        const buffered = [...m.reclaimed, ...m.fresh]
        const expected = want >= B / 2 || (want > 0 && renew.length > 0) ? Math.min(want, buffered.length) : 0
        const out = w.toLease(renew.length)
        expect(step, out.length === expected, `leased ${out.length} ahead, expected ${expected}`)
        expect(step, keysOf(out).join() === keysOf(buffered.slice(0, out.length)).join(), 'did not lease reclaimed entries first, in order')
        const slotsWait = C - m.active.length > m.ready.length + m.leasing.length - renew.length
        if (slotsWait && renew.length === 0 && buffered.length > 0) expect(step, out.length > 0, 'a free slot waits while entries are buffered')
        const fromReclaimed = Math.min(out.length, m.reclaimed.length)
        m.reclaimed.splice(0, fromReclaimed)
        m.fresh.splice(0, out.length - fromReclaimed)
        m.leasing.push(...out.map((e) => ({ e })))
        break
      }
      case 'leaseReply': {
        if (m.leasing.length === 0) break
        const item = takeAt(m.leasing, o.pick)
        if (o.verdict === 'leased') {
          const h: Ready = { e: item.e, job, token: item.token ?? `t${item.e.id}`, base: 0, readyAt: clock }
          w.leased(h)
          m.ready.push(h)
        } else if (o.verdict === 'letGo') {
          w.letGo(item.e)
        } else {
          w.startSide()
          m.active.push(item.e)
        }
        break
      }
      case 'end': {
        if (m.active.length === 0) break
        const e = takeAt(m.active, o.pick)
        if (o.accepted) { w.accepted(); m.unfinished.push(e) } else w.release(e)
        break
      }
      case 'finish': {
        const done = m.unfinished.splice(0, o.count)
        if (done.length > 0) w.finished(done)
        break
      }
      case 'handBack': {
        const { ready, entries } = w.handBack()
        const expected = [...m.reclaimed, ...m.fresh, ...m.ready.map((h) => h.e)]
        expect(step, keysOf(entries).join() === keysOf(expected).join(), 'handed back other entries than those buffered and ready')
        expect(step, ready.length === m.ready.length && ready.every((h, i) => h === m.ready[i]), 'handed back other ready jobs')
        m.reclaimed = []; m.fresh = []; m.ready = []
        break
      }
      case 'wait': {
        const waiter: Waiter = { resolved: false, sawIdle: idle() }
        void w.whenIdle(false).then(() => { waiter.resolved = true })
        waiters.push(waiter)
        break
      }
    }

    // The invariant: counters match the model, and every held entry is in exactly one place.
    const places: Array<[string, number, number]> = [
      ['reclaimed', w.reclaimed, m.reclaimed.length], ['fresh', w.fresh, m.fresh.length], ['leasing', w.leasing, m.leasing.length],
      ['ready', w.ready, m.ready.length], ['active', w.active, m.active.length], ['unfinished', w.unfinished, m.unfinished.length],
    ]
    for (const [name, actual, model] of places) expect(step, actual === model, `${name} is ${actual}, the model holds ${model}`)
    const all = [...m.reclaimed, ...m.fresh, ...m.leasing.map((i) => i.e), ...m.ready.map((h) => h.e), ...m.active, ...m.unfinished]
    expect(step, new Set(keysOf(all)).size === all.length, 'an entry is in two places')
    expect(step, w.held === all.length, `holds ${w.held} entries, but ${all.length} are in a place`)
    expect(step, w.inFlight === m.active.length + m.unfinished.length && w.buffered === bufferedOf(), 'inFlight or buffered is off')
    // room(): the window plus one read batch, less all it holds but accepted jobs up to a window of them.
    const backlog = Math.max(0, m.unfinished.length - C)
    expect(step, w.room() + (w.held - w.unfinished) + backlog === C + B, `room() is ${w.room()}`)
    const readAhead = m.reclaimed.length + m.fresh.length + m.ready.length
    // A read waits for room for half a batch while the read-ahead still holds entries; else it takes all the room.
    const forRead = readAhead > 0 && w.room() < B / 2 ? 0 : Math.max(0, w.room())
    expect(step, w.roomForRead() === forRead, `roomForRead() is ${w.roomForRead()}, expected ${forRead}`)
    expect(step, w.canStart() === (m.active.length < C && m.ready.length > 0), 'canStart() is off')

    await new Promise(setImmediate)
    if (idle()) for (const waiter of waiters) waiter.sawIdle = true
    for (const waiter of waiters) {
      expect(step, waiter.resolved === waiter.sawIdle, waiter.resolved ? 'an idle waiter resolved while work was held' : 'an idle waiter missed the idle window')
    }
  }
}

t.test(`the window against its model: ${RUNS} random sequences (seed ${SEED})`, async (t) => {
  t.comment(`window test seed ${SEED}: replay with WINDOW_SEED=${SEED}`)
  let failure: unknown
  await fc.assert(fc.asyncProperty(size, fc.array(op, { minLength: 10, maxLength: 80, size: 'max' }), run), { numRuns: RUNS, seed: SEED, endOnFailure: true })
    .catch((err: unknown) => { failure = err })
  t.equal(failure === undefined ? undefined : `WINDOW_SEED=${SEED}: ${failure instanceof Error ? failure.message : String(failure)}`, undefined,
    'every sequence keeps the invariant')
})

t.test('whenIdle(true) of a stopped sender ignores what is buffered, not what is in flight', async (t) => {
  const w = new SendWindow({ concurrency: 2, readBatch: 2 })
  w.take([entryOf(p0, '1-0', [])], false)
  let resolved = false
  await w.whenIdle(true).then(() => { resolved = true })
  t.ok(resolved, 'nothing in flight: resolves at once though an entry is buffered')
  const [e] = w.toLease(0)
  w.startSide()
  let later = false
  void w.whenIdle(true).then(() => { later = true })
  await new Promise(setImmediate)
  t.notOk(later, 'an entry in flight holds it')
  w.release(e!)
  await new Promise(setImmediate)
  t.ok(later, 'resolves once the entry is let go')
})

t.test('every way out of the window wakes an idle waiter', async (t) => {
  const exits: Array<[string, (w: SendWindow, e: Entry) => void]> = [
    ['a lease let go', (w, e) => w.letGo(e)],
    ['side work released', (w, e) => { w.startSide(); w.release(e) }],
    ['a completion written', (w, e) => { w.startSide(); w.accepted(); w.finished([e]) }],
    ['a hand back', (w, e) => { w.leased({ e, job, token: 't', base: 0, readyAt: 0 }); w.handBack() }],
  ]
  for (const [name, exit] of exits) {
    const w = new SendWindow({ concurrency: 2, readBatch: 2 })
    const e = entryOf(p0, '1-0', [])
    w.take([e], false)
    w.toLease(0)
    let idle = false
    void w.whenIdle(false).then(() => { idle = true })
    await new Promise(setImmediate)
    t.notOk(idle, `${name}: not idle while the entry is held`)
    exit(w, e)
    await new Promise(setImmediate)
    t.ok(idle && w.held === 0, `${name}: idle once it is gone`)
  }
})
