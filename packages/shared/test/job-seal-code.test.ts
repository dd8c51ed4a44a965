import t from 'tap'
import { randomBytes } from 'node:crypto'
import { codeHmac, decodeJob, recordOf, encodeJob, generateCode, partitionIndexOf, safeEqual, seal, unseal, type Job } from '../src/index.js'

t.test('a job survives encode and decode; a malformed one says why', async (t) => {
  const job: Job = { v: 1, kind: 'code', requestId: '0-abc', mobile: '+8613812345678', purpose: 'login', sealed: 'xyz', createdAt: 1, expiresAt: 2, attempts: 3 }
  const back = decodeJob(encodeJob(job))
  t.same(back, { ok: true, job })
  const bulk: Job = { v: 1, kind: 'bulk', requestId: '1-abc', mobiles: ['+8613812345678', '+8613912345678'], templateId: '1', params: ['a,b', 'c'], createdAt: 1, expiresAt: 2, attempts: 0 }
  t.same(decodeJob(encodeJob(bulk)), { ok: true, job: bulk })
  const bad = decodeJob(['v', '1', 'kind', 'code', 'requestId', 'x', 'mobile', 'not-a-number'])
  t.equal(bad.ok, false)
  if (!bad.ok) t.match(bad.reason, /invalid job/)
})

t.test('a field named __proto__ is an own field, never the prototype', async (t) => {
  const record = recordOf<string>(['a', '1', '__proto__', 'x', 'b', '2'])
  t.equal(Object.getPrototypeOf(record), Object.prototype, 'the prototype is untouched')
  t.same(Object.entries(record), [['a', '1'], ['__proto__', 'x'], ['b', '2']], 'every pair, in order, as own fields')
  const job: Job = { v: 1, kind: 'code', requestId: '0-abc', mobile: '+8613812345678', purpose: 'login', sealed: 'xyz', createdAt: 1, expiresAt: 2, attempts: 0 }
  const decoded = decodeJob([...encodeJob(job), '__proto__', '{"polluted":true}'])
  t.equal(decoded.ok, true, 'an extra field does not stop a job')
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype polluted')
})

t.test('sealing binds the code to its request id', async (t) => {
  const key = randomBytes(32)
  const sealed = seal(key, '123456', '0-req')
  t.notMatch(sealed, /123456/)
  t.equal(unseal(key, sealed, '0-req'), '123456')
  t.throws(() => unseal(key, sealed, '0-other'))
  t.throws(() => unseal(randomBytes(32), sealed, '0-req'))
  const raw = Buffer.from(sealed, 'base64url')
  const truncatedTag = Buffer.concat([raw.subarray(0, 12), raw.subarray(12, 16)]).toString('base64url')
  t.throws(() => unseal(key, truncatedTag, '0-req'), 'a truncated tag is refused')
  const shortTagWithBody = Buffer.concat([raw.subarray(0, 12), raw.subarray(12, 24), raw.subarray(28)]).toString('base64url')
  t.throws(() => unseal(key, shortTagWithBody, '0-req'), 'a forged short tag is refused')
})

t.test('codes are zero-padded digits; HMACs depend on every part', async (t) => {
  const codes = Array.from({ length: 2000 }, () => generateCode(6))
  t.ok(codes.every((c) => /^\d{6}$/.test(c)))
  t.ok(new Set(codes).size > 1900, 'codes vary')
  t.ok(codes.some((c) => c.startsWith('0')), 'leading zeros kept')
  const pepper = randomBytes(32)
  const h = codeHmac(pepper, '+8613812345678', 'login', '123456')
  t.not(h, codeHmac(pepper, '+8613812345678', 'register', '123456'))
  t.not(h, codeHmac(randomBytes(32), '+8613812345678', 'login', '123456'))
  t.ok(safeEqual('abc', 'abc'))
  t.notOk(safeEqual('abc', 'abd'))
  t.notOk(safeEqual('abc', 'abcd'))
})

t.test('partitions are stable and spread', async (t) => {
  t.equal(partitionIndexOf('+8613812345678', 16), partitionIndexOf('+8613812345678', 16))
  const seen = new Set(Array.from({ length: 1000 }, (_, i) => partitionIndexOf(`+86138${String(i).padStart(8, '0')}`, 16)))
  t.equal(seen.size, 16)
})
