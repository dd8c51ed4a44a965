import t from 'tap'
import { createRedis, FAIL_FAST, failFastWithWait } from '@sms-verify/shared'
import { startRedis, waitFor } from '@sms-verify/testing'
import { randomBytes } from 'node:crypto'
import { PassThrough } from 'node:stream'
import { buildApp } from '../src/app.js'
import { createApiLogger } from '../src/logger.js'
import { freshMobile, sendCode, startTestRedis, streamEntries, testConfig } from './helpers/app.js'

t.test('REDIS_WAIT_REPLICAS: 202 only once a replica holds the send, else 503 unavailable', async (t) => {
  const primary = await startTestRedis(t)
  const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(primary.port)] })
  t.teardown(() => replica.stop())
  await waitFor(async () => /master_link_status:up/.test(await replica.client().info('replication')), { what: 'replica linked' })
  await waitFor(async () => /slave0:.*state=online/.test(await primary.client().info('replication')), { what: 'the primary counts the replica online' })

  const config = testConfig(primary, { REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '1500' })
  const redis = createRedis(config, FAIL_FAST)
  const waitRedis = createRedis(config, failFastWithWait(config.REDIS_WAIT_TIMEOUT_MS))
  for (const c of [redis, waitRedis]) c.on('error', () => undefined)
  const logStream = new PassThrough()
  let logged = ''
  logStream.on('data', (chunk: Buffer) => { logged += chunk.toString('utf8') })
  const app = await buildApp(config, { redis, waitRedis, pepper: randomBytes(32), logger: createApiLogger('info', logStream) })
  t.teardown(() => app.close())
  // readiness covers the WAIT client too: both connections up before the first send
  await waitFor(async () => (await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, { what: 'the API ready' })

  const mobile = freshMobile()
  const ok = await sendCode(app, { mobile, purpose: 'register' })
  t.equal(ok.statusCode, 202, 'the replica confirmed')
  const { requestId } = ok.json()
  t.ok((await replica.client().xrange('sms:jobs', '-', '+')).some(([, f]) => f.includes(requestId)), 'the job is on the replica when the 202 is sent')

  await replica.kill()
  await waitFor(async () => /connected_slaves:0/.test(await primary.client().info('replication')), { what: 'primary sees no replica' })
  const refused = await sendCode(app, { mobile: freshMobile(), purpose: 'register' })
  t.equal(refused.statusCode, 503)
  t.equal(refused.json().error, 'unavailable')
  const unconfirmed = logged.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === 'send not confirmed by replicas in time')
  t.match(unconfirmed, [{ replicas: 0, wanted: 1 }], 'refused because no replica confirmed the send')
  t.equal(unconfirmed.length, 1)
  // Honest 503: the job was queued but is not known to be durable; the sender still sends it.
  t.equal((await streamEntries(primary)).length, 2)

  const status = await app.inject({ method: 'GET', url: `/v1/sms-codes/requests/${requestId}` })
  t.equal(status.statusCode, 200, 'other routes do not wait behind WAIT')
})
