import t from 'tap'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { acceptedBody, readSendReply } from '../src/send/reply.js'

// send.lua's replies (its header) read without Redis.

const TTL_S = 300

t.test('an acceptance gives the 202 body: resendIn counts from when the code was sent', async (t) => {
  const expiresAt = 1_700_000_300_000
  const outcome = readSendReply(['ok', '3-abc', expiresAt, expiresAt - 300_000 + 60_000])
  t.same(outcome, { kind: 'accepted', requestId: '3-abc', expiresAt, resendAt: expiresAt - 240_000, replay: false })
  if (outcome.kind !== 'accepted') return
  t.same(acceptedBody(outcome, TTL_S), { requestId: '3-abc', expiresIn: 300, resendIn: 60 })
})

t.test('a test number (no cooldown) answers resendIn 0, never below', async (t) => {
  const outcome = readSendReply(['ok', '0-x', 1_000_300_000, 1_000_000_000 - 5000])
  t.equal(outcome.kind, 'accepted')
  if (outcome.kind === 'accepted') t.equal(acceptedBody(outcome, TTL_S).resendIn, 0)
})

t.test('refusals carry their reason and retryAfterMs; idempotency_mismatch has none', async (t) => {
  t.same(readSendReply(['too_frequent', 41_500]), { kind: 'refused', reason: 'too_frequent', retryAfterMs: 41_500, replay: false })
  t.same(readSendReply(['idempotency_mismatch']), { kind: 'refused', reason: 'idempotency_mismatch', retryAfterMs: 1000, replay: false })
})

t.test('a replay reads as its stored answer, marked replay', async (t) => {
  // node:assert throws inside the property, so fast-check shrinks and its error names the seed
  t.doesNotThrow(() => fc.assert(fc.property(
    fc.string({ minLength: 1 }), fc.integer({ min: 0, max: 2 ** 45 }), fc.integer({ min: 0, max: 3_600_000 }),
    (requestId, expiresAt, interval) => {
      const first: Array<string | number> = ['ok', requestId, expiresAt, expiresAt - TTL_S * 1000 + interval]
      const direct = readSendReply(first)
      const replayed = readSendReply(['replay', JSON.stringify(first)])
      assert.deepStrictEqual(replayed, { ...direct, replay: true })
      assert.ok(direct.kind === 'accepted' && replayed.kind === 'accepted')
      assert.deepStrictEqual(acceptedBody(replayed, TTL_S), acceptedBody(direct, TTL_S), 'the same 202 body again')
      assert.equal(acceptedBody(direct, TTL_S).resendIn, Math.ceil(interval / 1000))
    }), { numRuns: 200 }))
})
