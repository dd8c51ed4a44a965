import t from 'tap'
import { backoffMs } from '../src/backoff.js'
import { Circuit } from '../src/circuit.js'
import { Failover } from '../src/failover.js'
import type { CodeMessage, Provider, SendOutcome } from '../src/provider.js'

const message: CodeMessage = { requestId: '0-abc', mobile: '+8613912345678' as never, purpose: 'login', code: '123456', minutesValid: 5 }

/** A provider that answers from a script of outcomes (the last repeats) and counts its calls. */
function scripted(name: string, outcomes: Array<SendOutcome['kind'] | 'stall'>) {
  let calls = 0
  const provider: Provider & { calls: () => number } = {
    name,
    calls: () => calls,
    async send(_m, signal) {
      const kind = outcomes[Math.min(calls++, outcomes.length - 1)]!
      if (kind === 'stall') return new Promise<SendOutcome>(() => { void signal })
      if (kind === 'accepted') return { kind, messageId: `${name}-${calls}` }
      if (kind === 'carrier_limit') return { kind, error: 'limit', blockedUntil: Date.now() + 1000 }
      return { kind, error: `${name} ${kind}` }
    },
    async sendBulk(m, signal) { return Promise.all(m.mobiles.map(() => provider.send(message, signal))) },
  }
  return provider
}

t.test('circuit: opens after the threshold, half-opens after the cool-down with one trial, closes on success', async (t) => {
  let now = 0
  const c = new Circuit(3, 1000, () => now)
  c.failure(); c.failure()
  t.equal(c.state, 'closed')
  c.success()
  c.failure(); c.failure(); c.failure()
  t.equal(c.state, 'open')
  t.notOk(c.tryAcquire())
  now = 999
  t.equal(c.state, 'open')
  now = 1000
  t.equal(c.state, 'half-open')
  t.ok(c.tryAcquire(), 'one trial')
  t.notOk(c.tryAcquire(), 'only one')
  c.failure()
  t.equal(c.state, 'open', 'a failed trial opens it again')
  now = 2000
  t.ok(c.tryAcquire())
  c.success()
  t.equal(c.state, 'closed')
  t.ok(c.tryAcquire())
})

t.test('failover: a transient failure moves the job to the next provider at once; each call counts', async (t) => {
  const a = scripted('a', ['transient'])
  const b = scripted('b', ['accepted'])
  const f = new Failover([a, b], { timeoutMs: 100, circuitThreshold: 5, circuitCooldownMs: 1000 })
  const r = await f.send(message, 5)
  t.equal(r.outcome.kind, 'accepted')
  t.equal(r.outcome.provider, 'b', 'the provider that delivered')
  t.equal(r.calls, 2)
  t.same(r.tried.map((x) => `${x.provider}:${x.kind}`), ['a:transient', 'b:accepted'])
})

t.test('failover: a permanent answer is final; no other provider is tried', async (t) => {
  const a = scripted('a', ['permanent'])
  const b = scripted('b', ['accepted'])
  const r = await new Failover([a, b], { timeoutMs: 100, circuitThreshold: 5, circuitCooldownMs: 1000 }).send(message, 5)
  t.equal(r.outcome.kind, 'permanent')
  t.equal(b.calls(), 0)
})

t.test('failover: the round never makes more calls than the attempts left', async (t) => {
  const a = scripted('a', ['transient'])
  const b = scripted('b', ['accepted'])
  const r = await new Failover([a, b], { timeoutMs: 100, circuitThreshold: 5, circuitCooldownMs: 1000 }).send(message, 1)
  t.equal(r.calls, 1)
  t.equal(r.outcome.kind, 'transient')
  t.equal(b.calls(), 0)
})

t.test('failover: an open circuit is skipped until it half-opens', async (t) => {
  let now = 0
  const a = scripted('a', ['transient', 'transient', 'accepted'])
  const b = scripted('b', ['accepted'])
  const f = new Failover([a, b], { timeoutMs: 100, circuitThreshold: 2, circuitCooldownMs: 1000, now: () => now })
  await f.send(message, 5)
  await f.send(message, 5)
  t.equal(f.circuit('a')?.state, 'open')
  const r = await f.send(message, 5)
  t.equal(r.calls, 1, 'a is skipped: no call, no attempt')
  t.equal(r.outcome.provider, 'b')
  t.equal(a.calls(), 2)
  now = 1000
  const trial = await f.send(message, 5)
  t.equal(trial.outcome.provider, 'a', 'half-open: one trial call to a, which succeeds')
  t.equal(f.circuit('a')?.state, 'closed')
})

t.test('failover: every circuit open gives a transient outcome with no call', async (t) => {
  const a = scripted('a', ['transient'])
  const f = new Failover([a], { timeoutMs: 100, circuitThreshold: 1, circuitCooldownMs: 60_000 })
  await f.send(message, 5)
  const r = await f.send(message, 5)
  t.equal(r.calls, 0)
  t.equal(r.outcome.kind, 'transient')
})

t.test('failover: a call past the deadline is transient, and the next provider takes it', async (t) => {
  const a = scripted('a', ['stall'])
  const b = scripted('b', ['accepted'])
  const started = Date.now()
  const r = await new Failover([a, b], { timeoutMs: 50, circuitThreshold: 5, circuitCooldownMs: 1000 }).send(message, 5)
  t.ok(Date.now() - started >= 50)
  t.equal(r.tried[0]!.kind, 'transient')
  t.match(r.tried[0]!.kind === 'transient' ? r.tried[0]!.error : '', /timeout/)
  t.equal(r.outcome.provider, 'b')
})

t.test('failover: bulk numbers that failed transiently move on to the next provider', async (t) => {
  const a: Provider = {
    name: 'a',
    send: async () => ({ kind: 'transient', error: 'x' }),
    sendBulk: async (m) => m.mobiles.map((mobile, i) => (i === 0 ? { kind: 'accepted', messageId: `a-${mobile}` } : { kind: 'transient', error: 'busy' })),
  }
  const seen: string[][] = []
  const b: Provider = {
    name: 'b',
    send: async () => ({ kind: 'transient', error: 'x' }),
    sendBulk: async (m) => { seen.push([...m.mobiles]); return m.mobiles.map((mobile) => ({ kind: 'accepted', messageId: `b-${mobile}` })) },
  }
  const r = await new Failover([a, b], { timeoutMs: 100, circuitThreshold: 5, circuitCooldownMs: 1000 })
    .sendBulk({ requestId: 'r', mobiles: ['+1', '+2', '+3'] as never, params: [] }, 5)
  t.same(seen, [['+2', '+3']])
  t.same(r.outcomes.map((o) => o.provider), ['a', 'b', 'b'])
  t.equal(r.calls, 2)
})

t.test('backoff: full jitter under an exponential ceiling, capped', async (t) => {
  t.equal(backoffMs(1, 1000, 60000, () => 0.999999), 999)
  t.equal(backoffMs(3, 1000, 60000, () => 0.5), 2000)
  t.equal(backoffMs(20, 1000, 60000, () => 0.999999), 59999)
  t.equal(backoffMs(2, 1000, 60000, () => 0), 0)
})
