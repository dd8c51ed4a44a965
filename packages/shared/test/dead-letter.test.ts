import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import t from 'tap'
import { DEAD_LETTER_ONLY, decodeDeadLetter, encodeDeadLetter, encodeJob, NOT_REPLAYED, type DeadLetter } from '../src/index.js'

const job = encodeJob({ v: 1, kind: 'code', requestId: '0-abc', mobile: '+8613812345678', purpose: 'login', sealed: 's3al', code: '123456', createdAt: 1, expiresAt: 2, attempts: 2 })

t.test('the encoder writes the letter\'s own fields first, then the entry\'s, never the code', async (t) => {
  const fields = encodeDeadLetter({
    requestId: '0-abc', reason: 'permanent', attempts: 3, lastError: 'E1', failedAt: 1700, entryId: '5-0', mobile: '+8613812345678', original: job,
  })
  t.same(fields, [
    'requestId', '0-abc', 'reason', 'permanent', 'attempts', '3', 'lastError', 'E1', 'failedAt', '1700', 'entryId', '5-0', 'mobile', '+8613812345678',
    'v', '1', 'kind', 'code', 'purpose', 'login', 'sealed', 's3al', 'createdAt', '1', 'expiresAt', '2',
  ])
})

t.test('a bulk letter names its failed numbers and drops what a retry carried forward', async (t) => {
  const bulk = ['v', '1', 'kind', 'bulk', 'requestId', '0-b', 'jobId', '0-b:0', 'mobiles', '+8613800000001,+8613800000002', 'sentBefore', '1',
    'failedBefore', '+8613800000003', 'params', '[]', 'attempts', '2']
  const fields = encodeDeadLetter({
    requestId: '0-b', reason: 'attempts_exhausted', attempts: 2, lastError: '', failedAt: 9, entryId: '7-1', mobiles: ['+8613800000003', '+8613800000002'], original: bulk,
  })
  t.same(fields, ['requestId', '0-b', 'reason', 'attempts_exhausted', 'attempts', '2', 'lastError', '', 'failedAt', '9', 'entryId', '7-1',
    'mobiles', '+8613800000003,+8613800000002', 'v', '1', 'kind', 'bulk', 'jobId', '0-b:0', 'params', '[]'])
  // without numbers of its own (a letter for an entry that was no job), the entry's `mobiles` is kept
  const own = encodeDeadLetter({ requestId: '0-b', reason: 'malformed', attempts: 0, lastError: 'x', failedAt: 9, entryId: '7-1', original: bulk })
  t.equal(own[own.indexOf('mobiles') + 1], '+8613800000001,+8613800000002')
})

t.test('decode reads every field back and keeps the rest as the entry to replay', async (t) => {
  const d = decodeDeadLetter(encodeDeadLetter({
    requestId: '0-abc', reason: 'carrier_limit', attempts: 1, lastError: 'limit', failedAt: 1700, entryId: '5-0', mobile: '+8613812345678', original: job,
  }))
  if (!d.ok) return t.fail(d.reason)
  t.same(d.letter, {
    requestId: '0-abc', reason: 'carrier_limit', attempts: 1, lastError: 'limit', failedAt: 1700, entryId: '5-0', mobile: '+8613812345678',
    original: ['v', '1', 'kind', 'code', 'purpose', 'login', 'sealed', 's3al', 'createdAt', '1', 'expiresAt', '2'],
  })
})

t.test('decode refuses what no dead-letter writer wrote, and says why', async (t) => {
  t.match(decodeDeadLetter([...job, 'reason', 'permanent']), { ok: false, reason: /lastError|failedAt|entryId/ })
  const noAttempts = encodeDeadLetter({ requestId: '0-a', reason: 'permanent', attempts: 0, lastError: '', failedAt: 1, entryId: '1-0', original: [] })
  noAttempts[noAttempts.indexOf('attempts') + 1] = 'many'
  t.match(decodeDeadLetter(noAttempts), { ok: false, reason: /attempts/ })
})

t.test('a replay drops exactly the fields only a dead letter has', async (t) => {
  const own = ['requestId', 'reason', 'attempts', 'lastError', 'failedAt', 'entryId', 'mobile', 'mobiles']
  const kept = own.filter((f) => !(DEAD_LETTER_ONLY as readonly string[]).includes(f))
  t.same(kept, ['requestId', 'attempts', 'mobile', 'mobiles'], 'the replayed job keeps its request, number(s) and attempts (reset by replay.lua)')
})

const field = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9]{0,8}$/).filter((f) => !NOT_REPLAYED.has(f) && !['reason', 'lastError', 'failedAt', 'entryId', 'mobiles'].includes(f))
const mobile = fc.stringMatching(/^\+\d{6,15}$/)
const letter: fc.Arbitrary<DeadLetter> = fc.record({
  requestId: fc.string(),
  reason: fc.string({ minLength: 1 }),
  attempts: fc.nat(),
  lastError: fc.string(),
  failedAt: fc.nat(),
  entryId: fc.stringMatching(/^\d{1,13}-\d{1,3}$/),
  mobile: fc.option(mobile, { nil: undefined }),
  mobiles: fc.option(fc.array(mobile, { minLength: 1, maxLength: 5 }), { nil: undefined }),
  original: fc.uniqueArray(fc.tuple(field, fc.string()), { selector: ([f]) => f, maxLength: 8 }).map((pairs) => pairs.flat()),
}, { requiredKeys: ['requestId', 'reason', 'attempts', 'lastError', 'failedAt', 'entryId', 'original'] })

t.test('property: decode(encode(letter)) is the letter', async (t) => {
  const out = fc.check(fc.property(letter, (d) => {
    const back = decodeDeadLetter(encodeDeadLetter(d))
    const expected = Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined))
    return back.ok && isDeepStrictEqual(back.letter, expected)
  }), { numRuns: 500 })
  t.notOk(out.failed, out.failed ? `counterexample ${fc.stringify(out.counterexample)} (seed ${out.seed}, path ${out.counterexamplePath})` : `held over ${out.numRuns} letters`)
})
