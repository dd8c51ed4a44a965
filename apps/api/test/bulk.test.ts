import t from 'tap'
import { decodeJob, keys, partition } from '@sms-verify/shared'
import { getStatus, makeApp, startTestRedis } from './helpers/app.js'

const TOKEN = 'admin-token-0123456789abcdef'
const server = await startTestRedis(t)
const { app } = await makeApp(t, server, { ADMIN_TOKEN: TOKEN })
const auth = { authorization: `Bearer ${TOKEN}` }
const numbers = (n: number, prefix = '137') => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(8, '0')}`)
const notify = (payload: unknown, headers: Record<string, string> = auth) =>
  app.inject({ method: 'POST', url: '/v1/sms/notifications', payload: payload as object, headers })

t.test('auth: 404 without ADMIN_TOKEN, 401 without a bearer, 403 with a wrong one', async (t) => {
  const server2 = await startTestRedis(t)
  const { app: off } = await makeApp(t, server2)
  const res = await off.inject({ method: 'POST', url: '/v1/sms/notifications', payload: { mobiles: ['13700000000'], templateId: '1', params: [] }, headers: auth })
  t.equal(res.statusCode, 404)
  const none = await notify({ mobiles: ['13700000000'], templateId: '1', params: [] }, {})
  t.equal(none.statusCode, 401)
  t.equal(none.json().error, 'unauthorized')
  t.equal(none.headers['www-authenticate'], 'Bearer')
  t.equal((await notify({}, { authorization: 'Basic abc' })).statusCode, 401)
  const wrong = await notify({ mobiles: ['13700000000'], templateId: '1', params: [] }, { authorization: `Bearer ${TOKEN}x` })
  t.equal(wrong.statusCode, 403)
  t.equal(wrong.json().error, 'forbidden')
})

t.test('450 numbers become 3 jobs on one request; bad ones are listed', async (t) => {
  const mobiles = [...numbers(450), 'junk', '+447400123456', '13700000000']
  const res = await notify({ mobiles, templateId: '1234567', params: ['周五', '10:00'] })
  t.equal(res.statusCode, 202)
  const body = res.json()
  t.equal(body.accepted, 450)
  t.same(body.rejected, [
    { mobile: 'junk', error: 'invalid_mobile' },
    { mobile: '+447400123456', error: 'region_not_allowed' },
    { mobile: '13700000000', error: 'duplicate' },
  ])
  const entries = await server.client().xrange('sms:jobs', '-', '+')
  const jobs = entries.map(([, fields]) => decodeJob(fields))
  t.equal(jobs.length, 3)
  const sizes = jobs.map((j) => (j.ok && j.job.kind === 'bulk' ? j.job.mobiles.length : -1))
  t.same(sizes, [200, 200, 50])
  for (const j of jobs) {
    t.ok(j.ok, 'each entry decodes as a job')
    if (j.ok && j.job.kind === 'bulk') {
      t.equal(j.job.requestId, body.requestId)
      t.equal(j.job.templateId, '1234567')
      t.same(j.job.params, ['周五', '10:00'])
    }
  }
  const status = await getStatus(app, body.requestId)
  t.equal(status.body.kind, 'bulk')
  t.equal(status.body.status, 'queued')
  t.equal(status.body.recipients, 450)
})

t.test('bad bulk bodies', async (t) => {
  t.equal((await notify({ mobiles: [], templateId: '1', params: [] })).statusCode, 400)
  t.equal((await notify({ mobiles: ['13700000001'], params: [] })).json().error, 'invalid_body', 'neither purpose nor templateId')
  t.equal((await notify({ mobiles: ['13700000001'], purpose: 'login', templateId: '1', params: [] })).json().error, 'invalid_body', 'both')
  const none = await notify({ mobiles: ['x', 'y'], templateId: '1', params: [] })
  t.equal(none.statusCode, 400)
  t.equal(none.json().rejected.length, 2)
  t.equal((await notify({ mobiles: numbers(10_001), templateId: '1', params: [] })).statusCode, 400, 'more than 10000')
})

t.test('Idempotency-Key on bulk: replay and mismatch', async (t) => {
  const headers = { ...auth, 'idempotency-key': 'campaign-42' }
  const before = await server.client().xlen('sms:jobs')
  const payload = { mobiles: numbers(3, '136'), purpose: 'login', params: ['x'] }
  const first = await notify(payload, headers)
  t.equal(first.statusCode, 202)
  const again = await notify({ ...payload, mobiles: [...payload.mobiles].reverse() }, headers)
  t.equal(again.statusCode, 202)
  t.same(again.json(), first.json(), 'order of mobiles does not matter')
  t.equal(await server.client().xlen('sms:jobs'), before + 1, 'one job only')
  const other = await notify({ ...payload, params: ['y'] }, headers)
  t.equal(other.statusCode, 422)
  t.equal(other.json().error, 'idempotency_mismatch')
})

const jobsIn = async (s: Awaited<ReturnType<typeof startTestRedis>>) =>
  (await s.client().xrange('sms:jobs', '-', '+')).map(([, fields]) => decodeJob(fields)).map((j) => (j.ok && j.job.kind === 'bulk' ? j.job : undefined))

t.test('Idempotency-Key: the same numbers spelt differently replay; other numbers are a mismatch', async (t) => {
  const headers = { ...auth, 'idempotency-key': 'campaign-spelling' }
  const before = await server.client().xlen('sms:jobs')
  const first = await notify({ mobiles: ['13500000001', '+8613500000002', '13500000003'], templateId: '9', params: [] }, headers)
  t.equal(first.statusCode, 202)
  const respelt = await notify({ mobiles: ['+86 135 0000 0003', '8613500000001', '+8613500000002', '13500000001'], templateId: '9', params: [] }, headers)
  t.equal(respelt.statusCode, 202, 'E.164 spellings, spaces, order and a repeat: the same request')
  t.same(respelt.json(), first.json())
  t.equal(await server.client().xlen('sms:jobs'), before + 1, 'one job only')
  const other = await notify({ mobiles: ['13500000001', '13500000002', '13500000004'], templateId: '9', params: [] }, headers)
  t.equal(other.statusCode, 422)
})

t.test('TEST_NUMBERS in a bulk request are accepted but never queued; their result reads sent by provider test', async (t) => {
  const s = await startTestRedis(t)
  const { app: withTests } = await makeApp(t, s, { ADMIN_TOKEN: TOKEN, TEST_NUMBERS: '+8613800000000=123456,+8613800000001=654321' })
  const send = (payload: object) => withTests.inject({ method: 'POST', url: '/v1/sms/notifications', payload, headers: auth })

  const mixed = await send({ mobiles: ['13800000000', '13700000009', '+8613800000001'], templateId: '5', params: [] })
  t.equal(mixed.statusCode, 202)
  t.equal(mixed.json().accepted, 3, 'test numbers count as accepted')
  const jobs = await jobsIn(s)
  t.equal(jobs.length, 1)
  t.same(jobs[0]!.mobiles, ['+8613700000009'], 'only the real number is queued')
  const rec = await s.client().hgetall(keys(partition(0, 1, false)).request(mixed.json().requestId))
  t.same(JSON.parse(rec.results!), { '+8613800000000': { status: 'sent', provider: 'test' }, '+8613800000001': { status: 'sent', provider: 'test' } })
  t.equal(rec.status, 'queued', 'the real number is still to be sent')
  const mixedStatus = await getStatus(withTests, mixed.json().requestId)
  t.same(mixedStatus.body.results, [{ mobile: '138****0000', status: 'sent', provider: 'test' }, { mobile: '138****0001', status: 'sent', provider: 'test' }], 'per-number outcomes, masked, over HTTP')
  t.equal(mixedStatus.body.sent, 2)

  const onlyTests = await send({ mobiles: ['13800000000'], templateId: '5', params: [] })
  t.equal(onlyTests.statusCode, 202)
  t.equal(onlyTests.json().accepted, 1)
  t.equal((await jobsIn(s)).length, 1, 'nothing more queued')
  const status = await getStatus(withTests, onlyTests.json().requestId)
  t.match(status.body, { status: 'sent', provider: 'test', recipients: 1 })
})

t.test('mainland and international numbers never share a job; each job holds at most 200', async (t) => {
  const s = await startTestRedis(t)
  const { app: world } = await makeApp(t, s, { ADMIN_TOKEN: TOKEN, ALLOWED_REGIONS: 'CN,HK,US' })
  const hk = Array.from({ length: 210 }, (_, i) => `+8526${String(1000000 + i)}`)
  const cn = numbers(250, '133')
  const mobiles = [cn[0]!, hk[0]!, ...cn.slice(1), ...hk.slice(1), '+12025550123']
  const res = await world.inject({ method: 'POST', url: '/v1/sms/notifications', payload: { mobiles, templateId: '5', params: [] }, headers: auth })
  t.equal(res.statusCode, 202)
  t.equal(res.json().accepted, 461)
  const jobs = await jobsIn(s)
  t.same(jobs.map((j) => j!.mobiles.length), [200, 50, 200, 11])
  for (const j of jobs) {
    const domestic = j!.mobiles.filter((m) => m.startsWith('+86')).length
    t.ok(domestic === 0 || domestic === j!.mobiles.length, `a job of ${j!.mobiles.length} is all mainland or all international`)
  }
  t.equal(new Set(jobs.flatMap((j) => j!.mobiles)).size, 461, 'every number queued once')
})
