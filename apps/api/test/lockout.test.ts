import t from 'tap'
import { codeOf, freshMobile, getStatus, makeApp, sendCode, startTestRedis, wrongCode } from './helpers/app.js'

// Targeted lockout (CONTRACT "Hardening"): wrong tries from one address never stop another
// address from checking a fresh code. A and B are two clients; the API sees their addresses.
const A = '198.51.100.66'
const B = '203.0.113.20'
const C = '2001:db8:c::1'

const server = await startTestRedis(t)

const verifyFrom = (app: Awaited<ReturnType<typeof makeApp>>['app'], remoteAddress: string, body: object) =>
  app.inject({ method: 'POST', url: '/v1/sms-codes/verify', payload: body, remoteAddress })

async function issueFrom(app: Awaited<ReturnType<typeof makeApp>>['app'], remoteAddress: string, mobile: string, purpose = 'register') {
  const res = await sendCode(app, { mobile, purpose }, {}, remoteAddress)
  if (res.statusCode !== 202) throw new Error(`send failed: ${res.body}`)
  const { requestId } = res.json() as { requestId: string }
  return { requestId, code: await codeOf(server, requestId) }
}

t.test('the old attack (4 sends, 20 wrong guesses from A) no longer stops B with a fresh code', async (t) => {
  const { app } = await makeApp(t, server, { RESEND_INTERVAL_SECONDS: '0' })
  const mobile = freshMobile()
  const answers: number[] = []
  for (let send = 0; send < 4; send++) {
    const { code } = await issueFrom(app, A, mobile)
    for (let i = 0; i < 5; i++) answers.push((await verifyFrom(app, A, { mobile, purpose: 'register', code: wrongCode(code) })).statusCode)
  }
  t.same(answers.slice(-1), [429], 'A is refused: its own tries are spent')
  const fromA = await verifyFrom(app, A, { mobile, purpose: 'register', code: '000000' })
  t.equal(fromA.json().error, 'too_many_attempts', 'A has used its day on this number')
  t.ok(fromA.json().retryAfter > 86_000, 'A waits for its day to pass')
  const fresh = await issueFrom(app, B, mobile)
  const fromB = await verifyFrom(app, B, { mobile, purpose: 'register', code: fresh.code })
  t.equal(fromB.statusCode, 200, 'B checks its fresh code')
  t.same(fromB.json(), { verified: true })
})

t.test('nobody else can burn the requester\'s code; the others share one budget', async (t) => {
  const { app } = await makeApp(t, server, { RESEND_INTERVAL_SECONDS: '0' })
  const mobile = freshMobile()
  const { requestId, code } = await issueFrom(app, B, mobile)
  const left: number[] = []
  for (let i = 0; i < 4; i++) left.push((await verifyFrom(app, i % 2 ? A : C, { mobile, purpose: 'register', code: wrongCode(code) })).json().attemptsLeft)
  t.same(left, [4, 3, 2, 1], 'A and C draw on one shared budget')
  const closing = await verifyFrom(app, A, { mobile, purpose: 'register', code: wrongCode(code) })
  t.equal(closing.statusCode, 429, 'the others\' fifth wrong try closes the code to them')
  t.equal((await verifyFrom(app, C, { mobile, purpose: 'register', code })).statusCode, 429, 'closed to every other address, right code included')
  t.equal((await verifyFrom(app, B, { mobile, purpose: 'register', code: wrongCode(code) })).json().attemptsLeft, 4, 'the requester still has all of its own')
  t.equal((await verifyFrom(app, B, { mobile, purpose: 'register', code })).statusCode, 200, 'and checks its code')
  t.equal((await getStatus(app, requestId)).body.status, 'verified')
})

t.test('the requester\'s own wrong tries burn the code for everyone', async (t) => {
  const { app } = await makeApp(t, server, { RESEND_INTERVAL_SECONDS: '0' })
  const mobile = freshMobile()
  const { requestId, code } = await issueFrom(app, B, mobile)
  for (let i = 0; i < 4; i++) t.equal((await verifyFrom(app, B, { mobile, purpose: 'register', code: wrongCode(code) })).statusCode, 400)
  t.equal((await verifyFrom(app, B, { mobile, purpose: 'register', code: wrongCode(code) })).statusCode, 429)
  t.equal((await verifyFrom(app, A, { mobile, purpose: 'register', code })).statusCode, 429, 'burnt: even the right code from anywhere')
  t.equal((await getStatus(app, requestId)).body.status, 'burnt')
})

t.test('a burnt code\'s 429 says when a new code may be asked for, not how long the old one lives', async (t) => {
  const { app } = await makeApp(t, server, { RESEND_INTERVAL_SECONDS: '60', CODE_TTL_SECONDS: '300' })
  const mobile = freshMobile()
  const { code } = await issueFrom(app, B, mobile)
  let res
  for (let i = 0; i < 5; i++) res = await verifyFrom(app, B, { mobile, purpose: 'register', code: wrongCode(code) })
  t.equal(res!.statusCode, 429)
  const { retryAfter } = res!.json() as { retryAfter: number }
  t.ok(retryAfter > 0 && retryAfter <= 60, `retryAfter ${retryAfter} is the cooldown's rest, not the code's ~300 s`)
  t.equal(res!.headers['retry-after'], String(retryAfter))
  const later = await verifyFrom(app, B, { mobile, purpose: 'register', code })
  t.ok(later.json().retryAfter <= 60, 'every later refusal of that code too')
  const again = await sendCode(app, { mobile, purpose: 'register' }, {}, B)
  t.equal(again.json().error, 'too_frequent')
  t.ok(Math.abs(again.json().retryAfter - later.json().retryAfter) <= 1, 'the same wait the send route gives')

  const { app: noCooldown } = await makeApp(t, server, { RESEND_INTERVAL_SECONDS: '0' })
  const other = freshMobile()
  const second = await issueFrom(noCooldown, B, other)
  for (let i = 0; i < 5; i++) res = await verifyFrom(noCooldown, B, { mobile: other, purpose: 'register', code: wrongCode(second.code) })
  t.equal(res!.json().retryAfter, 1, 'no cooldown: a new code may be asked for now')
})

t.test('the daily cap on wrong tries is per number and address', async (t) => {
  const { app } = await makeApp(t, server, { RESEND_INTERVAL_SECONDS: '0', VERIFY_MAX_FAILURES_PER_DAY: '3' })
  const mobile = freshMobile()
  const first = await issueFrom(app, A, mobile)
  for (let i = 0; i < 2; i++) t.equal((await verifyFrom(app, A, { mobile, purpose: 'register', code: wrongCode(first.code) })).statusCode, 400)
  const third = await verifyFrom(app, A, { mobile, purpose: 'register', code: wrongCode(first.code) })
  t.equal(third.json().error, 'too_many_attempts', 'A\'s third wrong try of the day')
  t.ok(third.json().retryAfter > 86_000)
  t.equal((await verifyFrom(app, A, { mobile, purpose: 'register', code: first.code })).statusCode, 429, 'A is refused even the right code')
  const fresh = await issueFrom(app, B, mobile, 'login')
  t.equal((await verifyFrom(app, B, { mobile, purpose: 'login', code: fresh.code })).statusCode, 200, 'B is not')
})

t.test('a send counts against the daily limit until 24 h after its code could last be checked', async (t) => {
  let now = Date.now()
  const { app } = await makeApp(t, server, { RESEND_INTERVAL_SECONDS: '0', SMS_DAILY_LIMIT_PER_MOBILE: '2', CODE_TTL_SECONDS: '300' }, { now: () => now })
  const mobile = freshMobile()
  const start = now
  for (let i = 0; i < 2; i++) t.equal((await sendCode(app, { mobile, purpose: 'login' }, {}, B)).statusCode, 202)
  now = start + 86_400_000 + 1000 // a day later, while a code sent at the start could still have been checked a day ago
  const refused = await sendCode(app, { mobile, purpose: 'login' }, {}, B)
  t.equal(refused.json().error, 'daily_limit')
  t.ok(refused.json().retryAfter <= 300 && refused.json().retryAfter >= 298, `the rest of the code's life: ${refused.json().retryAfter}`)
  now = start + 86_400_000 + 300_000 + 1
  t.equal((await sendCode(app, { mobile, purpose: 'login' }, {}, B)).statusCode, 202)
})
