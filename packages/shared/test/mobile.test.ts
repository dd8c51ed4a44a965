import { inspect, isDeepStrictEqual } from 'node:util'
import t from 'tap'
import { maskMobile, maskMobilesIn, parseMobile, parseMobileFast, parseMobileFull, ronglianNumber, type E164 } from '../src/index.js'

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

/** Deterministic PRNG (mulberry32), so a failing input can be reproduced. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), seed | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32
  }
}

const rand = random(0x5eed)
const digits = (n: number): string => Array.from({ length: n }, () => Math.floor(rand() * 10)).join('')
const forms = (nsn: string): string[] =>
  [nsn, `+86${nsn}`, `86${nsn}`, `+86 ${nsn.slice(0, 3)}-${nsn.slice(3, 7)}-${nsn.slice(7)}`]

/** The first input where the fast path, or parseMobile as a whole, answers other than libphonenumber alone. */
function firstDisagreement(inputs: Iterable<string>): string | undefined {
  for (const input of inputs) {
    const full = parseMobileFull(input)
    const fast = parseMobileFast(input)
    const whole = parseMobile(input)
    if ((fast !== undefined && !isDeepStrictEqual(fast, full)) || !isDeepStrictEqual(whole, full)) {
      return `${JSON.stringify(input)}: fast path ${inspect(fast)}, parseMobile ${inspect(whole)}, full path ${inspect(full)}`
    }
  }
  return undefined
}

t.test('the CN fast path answers exactly as libphonenumber does', async (t) => {
  const common: string[] = []
  for (let prefix = 130; prefix <= 199; prefix++) {
    for (let i = 0; i < 300; i++) common.push(...forms(`${prefix}${digits(8)}`))
  }
  t.equal(firstDisagreement(common), undefined, 'prefixes 130–199 in the four forms people type')
  // 179… reads as a carrier code to libphonenumber (CN national_prefix_for_parsing), so those are left to it.
  const deferred = common.find((input) => parseMobileFast(input) === undefined && !/^(\+?86 ?)?179/.test(input))
  t.equal(deferred, undefined, 'the fast path answers the common forms itself')

  const malformed = [
    '', '+', '86', '+86', '1', '138', '1'.repeat(40),
    ...['138', '150', '199', '179', '120'].flatMap((p) => {
      const nsn = `${p}${digits(8)}`
      return [...forms(nsn.slice(0, 10)), ...forms(`${nsn}${digits(1)}`), `0${nsn}`, `00${nsn}`, `0086${nsn}`, `+086${nsn}`, `+860${nsn}`, `860${nsn}`, `+${nsn}`, `8686${nsn}`]
    }),
    '1381234567a', 'a13812345678', '+86138l2345678', '138-1234-567x', '１３８１２３４５６７８',
    '++8613812345678', '+86+13812345678', '+8613812345678+', '86+13812345678',
    '02112345678', '+8602112345678', '+862112345678', '+86 21 1234 5678', '+86 021 1234 5678', '01012345678', '+8610 12345678', '861012345678', '+86 755 1234 5678',
    '+85291234567', '85291234567', '+852 9123 4567', '+85366123456', '+886912345678', '886912345678', '+886 912 345 678',
    '17951 13812345678', '+86 17951 13812345678', '1795100 13812345678', '12593 13812345678',
    '+86 (138) 1234.5678', '(138) 1234 5678', '138.1234.5678', '+ 86 138 1234 5678', '+86 138 1234 5678 ', '+8613812345678)', '8 6 1 3 8 1 2 3 4 5 6 7 8',
    '138\t1234\t5678', '138\u00a01234\u00a05678', '138\u30001234\u30005678', '13812345678\n', '+86\u2003138 1234 5678', '(86)13812345678', '-13812345678',
  ]
  t.equal(firstDisagreement(malformed), undefined, 'malformed and foreign inputs')

  const noise = Array.from({ length: 4000 }, () => `${rand() < 0.5 ? '+' : ''}${digits(8 + Math.floor(rand() * 7))}`)
  t.equal(firstDisagreement(noise), undefined, 'random digit strings of 8–14 digits')
})
