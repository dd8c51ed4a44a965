import t from 'tap'
import fc from 'fast-check'
import { randomChunk } from '../src/random-pool.js'
import { seal, unseal } from '../src/seal.js'

t.test('chunks are never handed out twice and stay as they were across refills', async (t) => {
  const out = fc.check(fc.property(fc.array(fc.integer({ min: 8, max: 64 }), { minLength: 50, maxLength: 400 }), (sizes) => {
    const chunks = sizes.map((size) => randomChunk(size))
    const copies = chunks.map((c) => Buffer.from(c))
    // enough draws to refill the 4 KB pool at least once more
    for (let i = 0; i < 600; i++) randomChunk(16)
    chunks.forEach((c, i) => { if (c.length !== sizes[i] || !c.equals(copies[i]!)) throw new Error(`chunk ${i} changed or has the wrong size`) })
    const seen = new Set(chunks.map((c) => c.subarray(0, 8).toString('hex')))
    if (seen.size !== chunks.length) throw new Error('two chunks share their first 8 bytes: bytes handed out twice')
  }), { numRuns: 30 })
  t.notOk(out.failed, out.failed ? `seed ${out.seed}: ${String(out.errorInstance)}` : 'no chunk reused or changed')
})

t.test('a chunk larger than a quarter of the pool comes straight from randomBytes', async (t) => {
  const big = randomChunk(2048)
  t.equal(big.length, 2048)
  t.not(big.toString('hex'), randomChunk(2048).toString('hex'))
})

t.test('sealing takes a fresh IV from the pool for every code', async (t) => {
  const key = Buffer.alloc(32, 7)
  const ivs = new Set<string>()
  for (let i = 0; i < 1000; i++) {
    const sealed = seal(key, '123456', `0-request${i}`)
    ivs.add(Buffer.from(sealed, 'base64url').subarray(0, 12).toString('hex'))
    if (i % 100 === 0) t.equal(unseal(key, sealed, `0-request${i}`), '123456')
  }
  t.equal(ivs.size, 1000, 'a thousand seals, a thousand IVs')
})
