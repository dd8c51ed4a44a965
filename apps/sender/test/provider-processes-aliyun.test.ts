import t, { type Test } from 'tap'
import { partition, recordOf } from '@sms-verify/shared'
import {
  fakeProviderEnv, runToExit, startFakeAliyun, startFakeTencent, startRedis, startSenderProcess, waitFor,
  type FakeAliyun, type FakeTencent, type RedisServer, type RunningProcess,
} from '@sms-verify/testing'
import { enqueueCode, mobileOf, statusOf } from './helpers/jobs.js'

// Real sender processes (apps/sender/dist/main.js) with the official Aliyun SDK and the Tencent SDK against the fakes.

const NO_REDIS = 'redis://127.0.0.1:1/0'

t.test('startup refusals: one clear stderr line, nothing on stdout, non-zero exit, no secret shown', async (t) => {
  const all = fakeProviderEnv({ tencent: 'http://127.0.0.1:1', aliyun: 'http://127.0.0.1:1' })
  const without = (env: Record<string, string>, ...names: string[]) => Object.fromEntries(Object.entries(env).filter(([k]) => !names.includes(k)))
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['Aliyun without its AccessKey', { SMS_PROVIDER: 'aliyun', ...without(all, 'ALIYUN_ACCESS_KEY_ID', 'ALIYUN_ACCESS_KEY_SECRET') },
      /^sender: invalid configuration: SMS_PROVIDER aliyun needs ALIYUN_ACCESS_KEY_ID, ALIYUN_ACCESS_KEY_SECRET\n$/],
    ['Aliyun without a sign name or templates', { SMS_PROVIDER: 'aliyun', ...without(all, 'ALIYUN_SMS_SIGN_NAME', 'ALIYUN_SMS_TEMPLATES') },
      /^sender: invalid configuration: SMS_PROVIDER aliyun needs ALIYUN_SMS_SIGN_NAME, ALIYUN_SMS_TEMPLATES \(no template for register, login, reset_password\)\n$/],
    ['Aliyun second in a failover order', { SMS_PROVIDER: 'tencent,aliyun', ...without(all, 'ALIYUN_ACCESS_KEY_SECRET') },
      /^sender: invalid configuration: SMS_PROVIDER aliyun needs ALIYUN_ACCESS_KEY_SECRET\n$/],
    ['a malformed endpoint', { SMS_PROVIDER: 'aliyun', ...all, ALIYUN_SMS_ENDPOINT: 'ftp://somewhere/else' },
      /^sender: invalid configuration: ALIYUN_SMS_ENDPOINT expected string to match .*\(got "ftp:\/\/somewhere\/else"\)\n$/],
    ['malformed templates', { SMS_PROVIDER: 'aliyun', ...all, ALIYUN_SMS_TEMPLATES: 'register:SMS_1' },
      /^sender: invalid configuration: ALIYUN_SMS_TEMPLATES expected string to match/],
  ]
  for (const [what, env, line] of cases) {
    // a seal key keeps the JOB_SEAL_KEY warning off stdout, so stdout shows only what the refusal printed
    const { code, stdout, stderr } = await runToExit('apps/sender/dist/main.js', { REDIS_URL: NO_REDIS, METRICS_PORT: '0', JOB_SEAL_KEY: `${'A'.repeat(43)}=`, ...env })
    t.not(code, 0, `${what}: non-zero exit`)
    t.match(stderr, line, `${what}: one clear line`)
    t.equal(stderr.split('\n').filter(Boolean).length, 1, `${what}: exactly one stderr line`)
    t.notMatch(stderr, all.ALIYUN_ACCESS_KEY_SECRET!, `${what}: the secret is not shown`)
    t.equal(stdout, '', `${what}: nothing on stdout`)
  }
})

interface Rig { server: RedisServer, tencent: FakeTencent, aliyun: FakeAliyun, start: (env: Record<string, string>) => Promise<RunningProcess> }

async function rig(t: Test): Promise<Rig> {
  const server = await startRedis()
  const tencent = await startFakeTencent()
  const aliyun = await startFakeAliyun()
  const senders: RunningProcess[] = []
  t.teardown(async () => {
    for (const s of senders) await s.kill('SIGKILL')
    await tencent.stop()
    await aliyun.stop()
    await server.stop()
  })
  return {
    server, tencent, aliyun,
    async start(env) {
      const s = await startSenderProcess({ REDIS_URL: server.url, ...fakeProviderEnv({ tencent: tencent.endpoint, aliyun: aliyun.endpoint }), ...env })
      senders.push(s)
      return s
    },
  }
}

async function sendAll(redis: ReturnType<RedisServer['client']>, mobiles: string[]) {
  const ids: string[] = []
  for (const m of mobiles) ids.push(await enqueueCode(redis, m))
  await waitFor(async () => (await Promise.all(ids.map((id) => statusOf(redis, id)))).every((s) => s.status === 'sent'), { timeout: 20_000, what: 'all sent' })
  return Promise.all(ids.map((id) => statusOf(redis, id)))
}

t.test('failover tencent → aliyun: Tencent\'s InternalError moves each job to Aliyun at once', async (t) => {
  const { server, tencent, aliyun, start } = await rig(t)
  const redis = server.client()
  const mobiles = [0, 1, 2].map((i) => mobileOf(81_000 + i))
  for (const m of mobiles) tencent.behaviour.set(m, { apiError: 'InternalError', message: 'internal error' })
  await start({ SMS_PROVIDER: 'tencent,aliyun', SENDER_CONCURRENCY: '1' })
  const records = await sendAll(redis, mobiles)
  t.same(records.map((r) => r.provider), ['aliyun', 'aliyun', 'aliyun'], 'the record names Aliyun, which delivered')
  t.same(records.map((r) => r.attempts), ['2', '2', '2'], 'one Tencent call and one Aliyun call each')
  t.same(aliyun.accepted.map((a) => a.phoneNumbers[0]), mobiles.map((m) => m.slice(3)))
  t.same([...tencent.refused, ...aliyun.refused], [])
  t.equal(await redis.xlen(partition(0, 1, false).deadStream), 0)
})

t.test('failover aliyun → tencent: 503, a balance of zero and a wrong AccessKey are the vendor\'s; a bad number is not', async (t) => {
  const { server, tencent, aliyun, start } = await rig(t)
  const redis = server.client()
  const mobiles = [0, 1].map((i) => mobileOf(82_000 + i))
  aliyun.behaviour.set(mobiles[0]!, { httpStatus: 503, code: 'ServiceUnavailable', message: 'temporary failure' })
  aliyun.behaviour.set(mobiles[1]!, { code: 'isv.AMOUNT_NOT_ENOUGH', message: '账户余额不足' })
  await start({ SMS_PROVIDER: 'aliyun,tencent', SENDER_CONCURRENCY: '1' })
  const records = await sendAll(redis, mobiles)
  t.same(records.map((r) => r.provider), ['tencent', 'tencent'])
  t.same(tencent.accepted.map((a) => a.mobile), mobiles)
  t.equal(aliyun.accepted.length, 0)

  // a refusal of the number is final: no failover, a dead letter
  const bad = mobileOf(82_010)
  aliyun.behaviour.set(bad, { code: 'isv.MOBILE_NUMBER_ILLEGAL', message: '非法手机号' })
  const id = await enqueueCode(redis, bad)
  await waitFor(async () => (await statusOf(redis, id)).status === 'failed', { timeout: 15_000, what: 'the bad number failed' })
  t.equal(tencent.accepted.filter((a) => a.mobile === bad).length, 0, 'Tencent was not tried')
  const [dead] = await redis.xrange(partition(0, 1, false).deadStream, '-', '+')
  t.match(recordOf<string>(dead![1]), { requestId: id, reason: 'permanent' })
})

t.test('a wrong AccessKey: in a list the job fails over to Tencent; with Aliyun alone it fails for good after one call', async (t) => {
  const { server, tencent, aliyun, start } = await rig(t)
  const redis = server.client()
  const chained = await start({ SMS_PROVIDER: 'aliyun,tencent', ALIYUN_ACCESS_KEY_SECRET: 'not-the-right-secret-000000000' })
  const [record] = await sendAll(redis, [mobileOf(83_000)])
  t.match(record, { provider: 'tencent', attempts: '2' })
  t.same(aliyun.refused, ['SignatureDoesNotMatch'])
  await chained.kill('SIGKILL')

  await start({ SMS_PROVIDER: 'aliyun', ALIYUN_ACCESS_KEY_SECRET: 'not-the-right-secret-000000000' })
  const id = await enqueueCode(redis, mobileOf(83_001))
  await waitFor(async () => (await statusOf(redis, id)).status === 'failed', { timeout: 15_000, what: 'failed for good' })
  t.match(await statusOf(redis, id), { attempts: '1' }, 'one call, no retries')
  t.same(aliyun.refused, ['SignatureDoesNotMatch', 'SignatureDoesNotMatch'])
  t.equal(tencent.accepted.length, 1)
})

t.test('receipts pulled by a real sender: SENDER_RECEIPT_POLL_SECONDS, QuerySendDetails, delivered', async (t) => {
  const { server, aliyun, start } = await rig(t)
  const redis = server.client()
  await start({ SMS_PROVIDER: 'aliyun', SENDER_RECEIPT_POLL_SECONDS: '1' })
  const [record] = await sendAll(redis, [mobileOf(84_000)])
  t.match(record, { provider: 'aliyun' })
  const requestId = record!.requestId!
  t.equal(aliyun.accepted[0]!.outId, requestId)
  aliyun.report(requestId, true, 'DELIVERED', '2024-03-10 08:03:04')
  await waitFor(async () => (await statusOf(redis, requestId)).status === 'delivered', { timeout: 15_000, what: 'the pulled receipt applied' })
  t.match(await statusOf(redis, requestId), { deliveredAt: String(Date.parse('2024-03-10T08:03:04+08:00')) })
  t.ok(aliyun.requests.some((r) => r.action === 'QuerySendDetails' && r.query.PhoneNumber === '13900084000'))
  t.same(aliyun.refused, [])
})
