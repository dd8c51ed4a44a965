import t from 'tap'
import { configSchema, createRedis, FAIL_FAST, loadConfig, recordOf } from '@sms-verify/shared'
import { startRedisCluster, waitFor } from '@sms-verify/testing'
import { randomBytes } from 'node:crypto'
import { buildApp } from '../src/app.js'
import { freshMobile, getStatus, sendCode, verifyCode } from './helpers/app.js'

t.test('cluster mode: send, race, per-IP limit with refunds, verify, status', async (t) => {
  const cluster = await startRedisCluster()
  t.teardown(() => cluster.stop())
  const config = loadConfig(configSchema, { REDIS_CLUSTER_NODES: cluster.seeds, LOG_LEVEL: 'silent', SEND_LIMIT_PER_IP_PER_HOUR: '3', RATE_LIMIT_PER_MINUTE: '9' })
  const redis = createRedis(config, { ...FAIL_FAST, commandTimeout: 2000 })
  redis.on('error', () => undefined)
  const app = await buildApp(config, { redis, pepper: randomBytes(32) })
  t.teardown(() => app.close())
  await app.ready()
  await waitFor(async () => (await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, { what: 'the cluster client ready' })

  const mobile = freshMobile()
  const race = await Promise.all(Array.from({ length: 20 }, (_, i) => sendCode(app, { mobile, purpose: 'register' }, {}, `198.51.100.${i}`)))
  t.equal(race.filter((r) => r.statusCode === 202).length, 1, 'one winner')
  t.equal(race.filter((r) => r.json().error === 'too_frequent').length, 19)
  const { requestId } = race.find((r) => r.statusCode === 202)!.json()
  t.match(requestId, /^\d+-/)
  const p = Number(requestId.split('-')[0])
  const stream = `sms:jobs:{${p}}`
  const entries = await cluster.client(await cluster.masterOf(stream)).xrange(stream, '-', '+')
  const job = entries.map(([, f]) => recordOf<string>(f)).find((j) => j.requestId === requestId)
  t.ok(job, 'queued on the partition stream')
  t.equal((await getStatus(app, requestId)).body.status, 'queued')

  // refused sends give their per-IP place back: after 1 accepted and 5 refused, two more fit, the third does not
  const own = freshMobile()
  t.equal((await sendCode(app, { mobile: own, purpose: 'register' }, {}, '192.0.2.10')).statusCode, 202)
  for (let i = 0; i < 5; i++) t.equal((await sendCode(app, { mobile: own, purpose: 'register' }, {}, '192.0.2.10')).json().error, 'too_frequent')
  t.equal((await sendCode(app, { mobile: freshMobile(), purpose: 'register' }, {}, '192.0.2.10')).statusCode, 202)
  t.equal((await sendCode(app, { mobile: freshMobile(), purpose: 'register' }, {}, '192.0.2.10')).statusCode, 202)
  const limited = await sendCode(app, { mobile: freshMobile(), purpose: 'register' }, {}, '192.0.2.10')
  t.equal(limited.statusCode, 429)
  t.equal(limited.json().error, 'rate_limited')

  // the general per-IP request limit, counted on its own slot next to the windows
  const burst = '203.0.113.9'
  for (let i = 0; i < 8; i++) t.equal((await app.inject({ method: 'GET', url: `/v1/sms-codes/requests/${requestId}`, remoteAddress: burst })).statusCode, 200)
  t.equal((await sendCode(app, { mobile: freshMobile(), purpose: 'register' }, {}, burst)).statusCode, 202, 'the ninth request of the minute')
  const tenth = await sendCode(app, { mobile: freshMobile(), purpose: 'register' }, {}, burst)
  t.equal(tenth.json().error, 'rate_limited', 'the tenth is over RATE_LIMIT_PER_MINUTE=9, counted across routes')
  t.ok(tenth.json().retryAfter <= 60, 'by the per-minute request limit, not the hourly send window')
  const verifyBurst = await app.inject({ method: 'POST', url: '/v1/sms-codes/verify', payload: { mobile, purpose: 'register', code: job!.code }, remoteAddress: burst })
  t.equal(verifyBurst.json().error, 'rate_limited', 'a verify counts against the same limit, on its own slot')

  const verified = await verifyCode(app, { mobile, purpose: 'register', code: job!.code })
  t.equal(verified.statusCode, 200)
  t.equal((await getStatus(app, requestId)).body.status, 'verified')
})
