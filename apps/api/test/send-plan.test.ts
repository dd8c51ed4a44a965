import t from 'tap'
import { randomBytes } from 'node:crypto'
import {
  codeHmac, configSchema, IDEMPOTENCY_TTL_MS, loadConfig, MINUTE_MS, partitionIndexOf, sendScript, unseal, type E164,
} from '@sms-verify/shared'
import { createContext } from '../src/context.js'
import { planSend } from '../src/send/plan.js'

// planSend does no I/O: what it decides is checked here, without Redis.

const NOW = 1_700_000_000_000
const pepper = randomBytes(32)
const mobile = '+8613812345678' as E164
const testMobile = '+8613800000000' as E164
const env = { LOG_LEVEL: 'silent', TEST_NUMBERS: `${testMobile}=424242`, SMS_BUDGET_PER_MINUTE: '50' }
const standalone = createContext(loadConfig(configSchema, env), { pepper, now: () => NOW })
const cluster = createContext(loadConfig(configSchema, { ...env, REDIS_CLUSTER_NODES: '127.0.0.1:7000' }), { pepper, now: () => NOW })

/** send.lua's ARGV by position: the one JSON argument it decodes (send.lua's header). */
const argvOf = (args: readonly string[]): string[] => JSON.parse(args[0]!) as string[]
/** The job's code field and its value: send.lua's ARGV[13] and [14], the rest of the job is the arguments before. */
const jobCodeOf = (args: readonly string[]): Record<string, string> => {
  const argv = argvOf(args)
  return { [argv[12]!]: argv[13]! }
}

t.test('a test number: every argument send.lua gets, by name, and the settings its text carries', async (t) => {
  const plan = planSend(standalone, { mobile: testMobile, purpose: 'login', client: '203.0.113.7' })
  const { config } = standalone
  t.equal(plan.testNumber, true)
  t.match(plan.requestId, /^0-[A-Za-z0-9_-]{16}$/)
  t.same(plan.args, sendScript.args(standalone.sendSettings, {
    now: NOW, requestId: plan.requestId, mobile: testMobile, purpose: 'login', codeHmac: codeHmac(pepper, testMobile, 'login', '424242'),
    idempotencyFingerprint: '', testNumber: true, client: '203.0.113.7', jobCode: { code: '424242' },
  }))
  t.same(standalone.sendSettings, {
    codeTtlMs: 300_000, resendIntervalMs: 60_000, dailyLimit: config.SMS_DAILY_LIMIT_PER_MOBILE, statusTtlMs: 300_000 + 86_400_000,
    idempotencyTtlMs: IDEMPOTENCY_TTL_MS, streamCap: config.STREAM_MAXLEN, ipLimitPerHour: config.SEND_LIMIT_PER_IP_PER_HOUR, budgetPerMinute: 50,
    requestLimit: config.RATE_LIMIT_PER_MINUTE, requestWindowMs: MINUTE_MS,
  })
})

t.test('a fresh code: the job carries it, the HMAC stands for it, each plan has its own', async (t) => {
  const plans = Array.from({ length: 20 }, () => planSend(standalone, { mobile, purpose: 'register', client: 'c' }))
  for (const plan of plans) {
    const { code } = jobCodeOf(plan.args)
    t.match(code, /^\d{6}$/)
    t.same(argvOf(plan.args).slice(0, 4), [String(NOW), plan.requestId, mobile, 'register'], 'the job\'s time, id, mobile and purpose')
    t.equal(argvOf(plan.args)[8], String(NOW + 300_000), 'ARGV[9]: the job\'s expiry')
    t.equal(argvOf(plan.args)[4], codeHmac(pepper, mobile, 'register', code!), 'ARGV[5] is the HMAC of the queued code')
    t.equal(argvOf(plan.args)[6], '0', 'not a test number')
  }
  t.equal(new Set(plans.map((p) => p.requestId)).size, plans.length, 'request ids differ')
  t.ok(new Set(plans.map((p) => jobCodeOf(p.args).code)).size > 1, 'codes are drawn, not fixed')
})

t.test('standalone, one partition: the keys of sms:jobs', async (t) => {
  const plan = planSend(standalone, { mobile, purpose: 'register', client: 'c' })
  const k = standalone.partitions[0]!
  t.same(plan.slotKeys, {
    number: k.number(mobile), request: k.request(plan.requestId), stream: 'sms:jobs', idempotency: k.idempotency('-'),
  })
})

t.test('cluster: the request id names the mobile\'s partition and every slot key carries its hash tag', async (t) => {
  const mobiles = Array.from({ length: 40 }, (_, i) => `+86139000${String(i).padStart(5, '0')}` as E164)
  const partitions = new Set<number>()
  for (const m of mobiles) {
    const plan = planSend(cluster, { mobile: m, purpose: 'reset_password', client: 'c', idempotencyKey: 'k' })
    const p = partitionIndexOf(m, 16)
    partitions.add(p)
    t.match(plan.requestId, new RegExp(`^${p}-`))
    for (const key of Object.values(plan.slotKeys)) t.ok(key.includes(`{${p}}`), `${key} is on partition ${p}'s slot`)
    t.equal(plan.slotKeys.stream, `sms:jobs:{${p}}`)
  }
  t.ok(partitions.size > 1, 'the mobiles spread over partitions')
})

t.test('Idempotency-Key: stored hashed, "the same request" is the same mobile and purpose', async (t) => {
  const key = 'order-4711-signup'
  const plan = (m: E164, purpose: 'register' | 'login') => planSend(standalone, { mobile: m, purpose, client: 'c', idempotencyKey: key })
  const a = plan(mobile, 'register')
  t.ok(a.idempotency)
  t.notOk(a.slotKeys.idempotency.includes(key), 'the client\'s key is not in the key name')
  t.equal(a.slotKeys.idempotency, standalone.partitions[0]!.idempotency(a.idempotency!.keyHash))
  t.equal(argvOf(a.args)[5], a.idempotency!.fingerprint, 'ARGV[6] is the fingerprint')
  t.same(plan(mobile, 'register').idempotency, a.idempotency, 'the same request, the same key and fingerprint')
  t.not(plan(mobile, 'login').idempotency!.fingerprint, a.idempotency!.fingerprint, 'another purpose is another request')
  t.not(plan(testMobile, 'register').idempotency!.fingerprint, a.idempotency!.fingerprint, 'another mobile is another request')
})

t.test('JOB_SEAL_KEY: the job carries the code sealed to its request id, never in the clear', async (t) => {
  const sealKey = randomBytes(32)
  const sealed = createContext(standalone.config, { pepper, sealKey, now: () => NOW })
  const plan = planSend(sealed, { mobile, purpose: 'register', client: 'c' })
  const job = jobCodeOf(plan.args)
  t.equal(job.code, undefined)
  const code = unseal(sealKey, job.sealed!, plan.requestId)
  t.equal(argvOf(plan.args)[4], codeHmac(pepper, mobile, 'register', code), 'the sealed code is the one the HMAC stands for')
})
