import t from 'tap'
import { partition } from '@sms-verify/shared'
import {
  fakeProviderEnv, runNode, runToExit, startFakeRonglian, startFakeTencent, startRedis, startSenderProcess, waitFor, type RunningProcess,
} from '@sms-verify/testing'
import { enqueueCode, mobileOf, statusOf } from './helpers/jobs.js'

// Real sender processes (apps/sender/dist/main.js) with the real Tencent SDK and fetch against the fakes.

// Nothing listens here: a sender that wrongly starts hangs on it and the test times out instead of touching a real Redis.
const NO_REDIS = 'redis://127.0.0.1:1/0'

t.test('startup refusals: one clear stderr line, nothing on stdout, non-zero exit', async (t) => {
  const all = fakeProviderEnv({ tencent: 'http://127.0.0.1:1', ronglian: 'http://127.0.0.1:1' })
  const without = (env: Record<string, string>, ...names: string[]) => Object.fromEntries(Object.entries(env).filter(([k]) => !names.includes(k)))
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['Tencent without its credentials', { SMS_PROVIDER: 'tencent', ...without(all, 'TENCENT_SECRET_ID', 'TENCENT_SECRET_KEY') },
      /^sender: invalid configuration: SMS_PROVIDER tencent needs TENCENT_SECRET_ID, TENCENT_SECRET_KEY\n$/],
    ['Tencent without a sign, app id or templates', { SMS_PROVIDER: 'tencent', ...without(all, 'TENCENT_SMS_SIGN', 'TENCENT_SMS_SDK_APP_ID', 'TENCENT_SMS_TEMPLATES') },
      /^sender: invalid configuration: SMS_PROVIDER tencent needs TENCENT_SMS_SDK_APP_ID, TENCENT_SMS_SIGN, TENCENT_SMS_TEMPLATES \(no template for register, login, reset_password\)\n$/],
    ['Ronglian without its credentials', { SMS_PROVIDER: 'ronglian', ...without(all, 'RONGLIAN_ACCOUNT_SID', 'RONGLIAN_AUTH_TOKEN', 'RONGLIAN_APP_ID') },
      /^sender: invalid configuration: SMS_PROVIDER ronglian needs RONGLIAN_ACCOUNT_SID, RONGLIAN_AUTH_TOKEN, RONGLIAN_APP_ID\n$/],
    ['the second provider of a failover order', { SMS_PROVIDER: 'tencent,ronglian', ...without(all, 'RONGLIAN_AUTH_TOKEN') },
      /^sender: invalid configuration: SMS_PROVIDER ronglian needs RONGLIAN_AUTH_TOKEN\n$/],
    ['CODE_LENGTH=7 with Tencent', { SMS_PROVIDER: 'tencent', CODE_LENGTH: '7', ...all },
      /^sender: invalid configuration: CODE_LENGTH 7 is more than the 6 digits Tencent verification templates take\n$/],
  ]
  for (const [what, env, line] of cases) {
    const { code, stdout, stderr } = await runToExit('apps/sender/dist/main.js', { REDIS_URL: NO_REDIS, METRICS_PORT: '0', ...env })
    t.not(code, 0, `${what}: non-zero exit`)
    t.match(stderr, line, `${what}: one clear line`)
    t.equal(stderr.split('\n').filter(Boolean).length, 1, `${what}: exactly one stderr line`)
    t.equal(stdout, '', `${what}: nothing on stdout`)
  }
  // the same variables, complete, start fine with CODE_LENGTH 7 with Ronglian alone: past the checks, the
  // process goes on to connect to Redis (and reports that nothing listens there)
  const ok = runNode('apps/sender/dist/main.js', { REDIS_URL: NO_REDIS, METRICS_PORT: '0', SMS_PROVIDER: 'ronglian', CODE_LENGTH: '7', ...all })
  t.teardown(() => ok.kill('SIGKILL'))
  await ok.waitForLine((l) => l.msg === 'redis connection error; reconnecting', 15_000)
  t.equal(ok.child.exitCode, null, 'CODE_LENGTH 7 with Ronglian alone is accepted (the process keeps running)')
  t.notOk(ok.lines.some((l) => /invalid configuration/.test(String(l.msg))), 'no configuration refused')
})

t.test('failover with an open circuit, real adapters: Tencent answers InternalError, after the threshold jobs go straight to Ronglian', async (t) => {
  const server = await startRedis()
  const redis = server.client()
  const tencent = await startFakeTencent()
  const ronglian = await startFakeRonglian()
  let sender: RunningProcess | undefined
  t.teardown(async () => {
    await sender?.kill('SIGKILL')
    await tencent.stop()
    await ronglian.stop()
    await server.stop()
  })
  const mobiles = Array.from({ length: 6 }, (_, i) => mobileOf(70_000 + i))
  for (const m of mobiles) tencent.behaviour.set(m, { apiError: 'InternalError', message: 'internal error' })
  sender = await startSenderProcess({
    REDIS_URL: server.url, SMS_PROVIDER: 'tencent,ronglian', SENDER_CONCURRENCY: '1',
    SENDER_CIRCUIT_THRESHOLD: '3', SENDER_CIRCUIT_COOLDOWN_MS: '600000',
    ...fakeProviderEnv({ tencent: tencent.endpoint, ronglian: ronglian.baseUrl }),
  })
  const ids: string[] = []
  for (const m of mobiles) ids.push(await enqueueCode(redis, m))
  await waitFor(async () => (await Promise.all(ids.map((id) => statusOf(redis, id)))).every((s) => s.status === 'sent'),
    { timeout: 20_000, what: 'all six sent' })
  const records = await Promise.all(ids.map((id) => statusOf(redis, id)))
  t.same(records.map((r) => r.provider), Array(6).fill('ronglian'), 'the status record names the provider that delivered')
  const sendSms = tencent.requests.filter((r) => r.action === 'SendSms')
  t.equal(sendSms.length, 3, 'Tencent was called until its circuit opened, then no more')
  t.equal(ronglian.requests.length, 6, 'Ronglian sent all six')
  t.same(records.map((r) => r.attempts), ['2', '2', '2', '1', '1', '1'], 'two calls while the circuit was closed, one after it opened')
  t.same(tencent.refused, [], 'every Tencent call was signed correctly')
  t.equal(await redis.xlen(partition(0, 1, false).deadStream), 0)
})
