import t from 'tap'
import { maskMobile, maskMobilesIn, parseMobile, ronglianNumber, type E164 } from '../src/index.js'

t.test('accepts the forms a person types', async (t) => {
  for (const input of ['13812345678', '+8613812345678', '+86 138-1234-5678', '8613812345678']) {
    const r = parseMobile(input)
    t.ok(r.ok, input)
    if (r.ok) t.equal(r.e164, '+8613812345678', input)
  }
  const uk = parseMobile('+447400123456')
  t.ok(uk.ok && uk.region === 'GB')
})

t.test('refuses what is not a valid mobile', async (t) => {
  for (const input of ['', '1381234567', '138123456789', '12812345678', '02112345678', '+8602112345678', 'abc', '1381234567x', '+', '++8613812345678', '1'.repeat(40), '+86 021 1234 5678']) {
    t.notOk(parseMobile(input).ok, JSON.stringify(input))
  }
})

t.test('masks like 138****5678', async (t) => {
  t.equal(maskMobile('+8613812345678'), '138****5678')
  t.equal(maskMobile('13812345678'), '138****5678')
  t.equal(maskMobilesIn('/sms_codes/13812345678/'), '/sms_codes/138****5678/')
  t.equal(maskMobilesIn('/v1/callbacks/tencent/s3cret-token-value?x=1'), '/v1/callbacks/tencent/[redacted]?x=1', 'the receipt route\'s secret segment')
  t.equal(ronglianNumber('+8613812345678' as E164), '13812345678')
  t.equal(ronglianNumber('+447400123456' as E164), '00447400123456')
})
