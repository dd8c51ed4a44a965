import t from 'tap'
import fc from 'fast-check'
import { aliyunNumber, e164FromAliyun, newRequestId, partitionIndexOf, type E164 } from '../src/index.js'

// Aliyun's number forms (11 national digits for the mainland, country code + number otherwise) are
// ambiguous for +1 numbers; a report's out_id (our request id) carries the partition that settles it.

const mainland = fc.tuple(fc.integer({ min: 3, max: 9 }), fc.stringMatching(/^\d{9}$/)).map(([d, rest]) => `+861${d}${rest}` as E164)
const nanp = fc.tuple(fc.integer({ min: 2, max: 9 }), fc.stringMatching(/^\d{9}$/)).map(([d, rest]) => `+1${d}${rest}` as E164)
const other = fc.tuple(fc.constantFrom('852', '853', '886', '44', '81', '65', '7'), fc.stringMatching(/^[1-9]\d{6,9}$/)).map(([cc, n]) => `+${cc}${n}` as E164)

t.test('a report\'s number read back lands in the partition of the number that was sent, whatever the form', async (t) => {
  const seed = Number(process.env.FC_SEED ?? Date.now())
  t.comment(`fast-check seed ${seed} (rerun with FC_SEED=${seed})`)
  fc.assert(fc.property(fc.oneof(mainland, nanp, other), fc.integer({ min: 1, max: 64 }), (sent, partitions) => {
    const p = partitionIndexOf(sent, partitions)
    const read = e164FromAliyun(aliyunNumber(sent), newRequestId(p), partitions)
    if (read === undefined) return false
    if (partitionIndexOf(read, partitions) !== p) return false
    // unambiguous forms come back exactly; an ambiguous one may read as the other number of its partition
    const ambiguous = /^\+1[3-9]\d{9}$/.test(sent) || /^\+861[3-9]\d{9}$/.test(sent)
    return ambiguous || read === sent
  }), { seed, numRuns: 2000 })
})

t.test('the forms Aliyun documents, both ways', async (t) => {
  t.equal(aliyunNumber('+8613812345678' as E164), '13812345678')
  t.equal(aliyunNumber('+85291234567' as E164), '85291234567')
  t.equal(e164FromAliyun('13812345678', '0-aaaaaaaaaaaaaaaa', 1), '+8613812345678', 'one partition: the mainland reading')
  t.equal(e164FromAliyun('0085291234567', '0-aaaaaaaaaaaaaaaa', 1), '+85291234567')
  t.equal(e164FromAliyun('not a number', '0-aaaaaaaaaaaaaaaa', 1), undefined)
  // with 64 partitions, the +1 reading of 13105551234 is chosen when the out_id names its partition
  const us = '+13105551234' as E164
  const cn = '+8613105551234' as E164
  if (partitionIndexOf(us, 64) !== partitionIndexOf(cn, 64)) {
    t.equal(e164FromAliyun('13105551234', newRequestId(partitionIndexOf(us, 64)), 64), us)
    t.equal(e164FromAliyun('13105551234', newRequestId(partitionIndexOf(cn, 64)), 64), cn)
  }
  const neither = [...Array(64).keys()].find((p) => p !== partitionIndexOf(us, 64) && p !== partitionIndexOf(cn, 64))!
  t.equal(e164FromAliyun('13105551234', newRequestId(neither), 64), undefined, 'an out_id of another partition is not ours')
})
