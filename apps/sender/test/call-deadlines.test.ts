import t from 'tap'
import { CallDeadlines } from '../src/call-deadlines.js'
import { Failover } from '../src/failover.js'
import { raceAbort } from '../src/providers/abort.js'
import type { CodeMessage, Provider, SendOutcome } from '../src/provider.js'

const message: CodeMessage = { requestId: '0-abc', mobile: '+8613912345678' as never, purpose: 'login', code: '123456', minutesValid: 5 }
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length

/** Resolves when `onTimeout` runs; counts its runs. */
function watcher() {
  let runs = 0
  let fire: () => void = () => {}
  const fired = new Promise<void>((resolve) => { fire = resolve })
  return { onTimeout: () => { runs++; fire() }, fired, runs: () => runs }
}

t.test('calls that start within one slice share its signal; a call that ends in time is never told', async (t) => {
  const deadlines = new CallDeadlines(60_000, 60_000) // one long slice: every call below joins it
  const a = watcher()
  const b = watcher()
  const first = deadlines.start(a.onTimeout)
  const second = deadlines.start(b.onTimeout)
  t.equal(second, first, 'the same slice')
  t.equal(second.signal, first.signal, 'one AbortController for both')
  first.done(a.onTimeout)
  first.done(b.onTimeout)
  t.equal(a.runs() + b.runs(), 0)
  t.notOk(first.signal.aborted)
})

t.test('at the deadline the signal aborts and each call still waiting is told once; one that ended is not', async (t) => {
  const deadlines = new CallDeadlines(30, 30)
  const ended = watcher()
  const stalled = watcher()
  const slice = deadlines.start(ended.onTimeout)
  deadlines.start(stalled.onTimeout)
  slice.done(ended.onTimeout)
  await stalled.fired
  t.ok(slice.signal.aborted, 'the shared signal aborted')
  t.match(String((slice.signal.reason as Error).message), /timed out after 30 ms/)
  slice.done(stalled.onTimeout) // a late done() after the deadline changes nothing
  t.equal(stalled.runs(), 1, 'told once')
  t.equal(ended.runs(), 0, 'a call that ended in time is not told')
})

t.test('a call after the slice ends starts a new slice with its own signal', async (t) => {
  const deadlines = new CallDeadlines(60_000, 1)
  const a = watcher()
  const first = deadlines.start(a.onTimeout)
  await new Promise<void>((resolve) => {
    const spin = () => (performance.now() >= first.joinableUntil ? resolve() : setImmediate(spin))
    spin()
  })
  const b = watcher()
  const second = deadlines.start(b.onTimeout)
  t.not(second, first)
  t.not(second.signal, first.signal)
  first.done(a.onTimeout)
  second.done(b.onTimeout)
})

t.test('the timer holds the process only while a call waits, and goes once its slice is closed and empty', async (t) => {
  const before = timers()
  const deadlines = new CallDeadlines(60_000, 60_000)
  const a = watcher()
  const slice = deadlines.start(a.onTimeout)
  t.equal(timers(), before + 1, 'a waiting call keeps the timer referenced')
  slice.done(a.onTimeout)
  t.equal(timers(), before, 'no call waits: the timer no longer holds the process')
  const b = watcher()
  deadlines.start(b.onTimeout)
  t.equal(timers(), before + 1, 'a new call in the same slice holds it again')
  slice.close()
  t.equal(timers(), before + 1, 'closing waits for the call')
  slice.done(b.onTimeout)
  t.equal(timers(), before, 'closed and empty: gone')
})

t.test('many calls of one slice listen to its signal without a MaxListeners warning, and all time out', async (t) => {
  const warnings: string[] = []
  const onWarning = (w: Error) => warnings.push(w.name)
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  const stalled: Provider = {
    name: 'stalled',
    send: (_m, signal) => raceAbort(new Promise<SendOutcome>(() => {}), signal),
    sendBulk: () => Promise.reject(new Error('not used')),
  }
  const failover = new Failover([stalled], { timeoutMs: 40, circuitThreshold: 1000, circuitCooldownMs: 1000 })
  const rounds = await Promise.all(Array.from({ length: 50 }, () => failover.send(message, 1)))
  t.ok(rounds.every((r) => r.outcome.kind === 'transient' && r.outcome.timeout === true), 'every call answered as a timeout')
  await new Promise((resolve) => setImmediate(resolve)) // warnings are emitted on the next turn
  t.same(warnings, [], 'no warning')
})
