import t from 'tap'
import { decodeJob } from '@sms-verify/shared'
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
