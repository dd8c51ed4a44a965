import t from 'tap'
import { readFileSync } from 'node:fs'
import { startRedis } from '@sms-verify/testing'
import { createRedis, globalKeys, keys, partition, encodeJob, sendScript, type E164 } from '../src/index.js'

t.test('send.lua refuses a second send inside the interval and queues exactly one job', async (t) => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = createRedis({ REDIS_URL: server.url, REDIS_CLUSTER_NODES: [] })
  t.teardown(() => redis.disconnect())
  const p = partition(0, 1, false)
  const k = keys(p)
  const m = '+8613812345678' as E164
  const call = (id: string) => {
    const job = encodeJob({ v: 1, kind: 'code', requestId: id, mobile: m, purpose: 'register', code: '123456', createdAt: 1, expiresAt: 2, attempts: 0 })
    return redis.smsSend(7,
      ...sendScript.keys({ number: k.number(m), request: k.request(id), stream: k.jobs,
        idempotency: k.idempotency('-'), ipSends: globalKeys.ipSends('1.2.3.4'), budget: globalKeys.budget, requestCounter: globalKeys.requestCounter('1.2.3.4') }),
      ...sendScript.args({ now: Date.now(), requestId: id, mobile: m, purpose: 'register', codeHmac: 'hmac', codeTtlMs: 300000, resendIntervalMs: 60000, dailyLimit: 10,
        statusTtlMs: 86700000, idempotencyFingerprint: '', idempotencyTtlMs: 86400000, testNumber: false, streamCap: 100000, requestPrefix: k.requestPrefix,
        ipLimitPerHour: 20, budgetPerMinute: 0, requestLimit: 300, requestWindowMs: 60000, client: '1.2.3.4', job }))
  }
  const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => call(`0-id${i}`)))
  t.equal(replies.filter((r) => r[0] === 'ok').length, 1)
  t.equal(replies.filter((r) => r[0] === 'too_frequent').length, 49)
  const plain = server.client()
  t.equal(await plain.xlen('sms:jobs'), 1)
  const [[, fields]] = await plain.xrange('sms:jobs', '-', '+') as [[string, string[]]]
  t.equal(fields[fields.indexOf('requestId') + 1], replies.find((r) => r[0] === 'ok')![1], 'the entry carries the job fields')
  t.equal(await plain.get(globalKeys.requestCounter('1.2.3.4')), '50', 'every request counted against the per-IP limit')
})

t.test('the builder and send.lua agree on the times it works out and where the job begins', async (t) => {
  const source = readFileSync(new URL('../lua/send.lua', import.meta.url), 'utf8')
  t.match(source, new RegExp(`^-- ARGV\\[${sendScript.jobAt}\\.\\.\\] job fields for XADD$`, 'm'), 'the header names the job\'s first position')
  t.match(source, new RegExp(`unpack\\(ARGV, ${sendScript.jobAt}\\)`), 'XADD takes the job from there')
  const now = 1_733_000_000_123
  const job = ['requestId', 'r1']
  const base = { now, requestId: 'r1', mobile: '+8613812345678' as E164, purpose: 'login' as const, codeHmac: 'h', codeTtlMs: 300_000,
    resendIntervalMs: 60_000, dailyLimit: 10, statusTtlMs: 1, idempotencyFingerprint: '', idempotencyTtlMs: 1, testNumber: false, streamCap: 1,
    requestPrefix: 'p', ipLimitPerHour: 20, budgetPerMinute: 0, requestLimit: 300, requestWindowMs: 60_000, client: 'c', job }
  const argv = sendScript.argv(base)
  const at = (position: number) => argv[position - 1]
  t.same([at(20), at(21), at(22), at(23), at(24), at(25)],
    [String(now + 300_000), String(now + 60_000), String(86_400_000 + 300_000), String(86_400_000 + 300_000), String(now - 3_600_000), String(now - 60_000)],
    'expiry, cooldown end, daily window, the number hash\'s TTL, the hourly and the budget window\'s starts')
  t.same(argv.slice(sendScript.jobAt - 1), job)
  const longCooldown = sendScript.argv({ ...base, resendIntervalMs: 100_000_000 })
  t.equal(longCooldown[23 - 1], '100000000', 'a cooldown longer than the daily window keeps the hash that long')
})

t.test('what an accepted send writes: the same decimal strings a Lua number would have become', async (t) => {
  const server = await startRedis()
  t.teardown(() => server.stop())
  const redis = createRedis({ REDIS_URL: server.url, REDIS_CLUSTER_NODES: [] })
  t.teardown(() => redis.disconnect())
  const k = keys(partition(0, 1, false))
  const m = '+8613812345679' as E164
  const now = Date.now()
  const job = encodeJob({ v: 1, kind: 'code', requestId: '0-w1', mobile: m, purpose: 'register', code: '123456', createdAt: now, expiresAt: now + 300000, attempts: 0 })
  const ip = globalKeys.ipSends('1.2.3.5')
  await server.client().zadd(ip, now - 3_600_000, 'slid-out', now - 3_599_999, 'still-in')
  const reply = await redis.smsSend(7,
    ...sendScript.keys({ number: k.number(m), request: k.request('0-w1'), stream: k.jobs,
      idempotency: k.idempotency('-'), ipSends: ip, budget: globalKeys.budget, requestCounter: globalKeys.requestCounter('1.2.3.5') }),
    ...sendScript.args({ now, requestId: '0-w1', mobile: m, purpose: 'register', codeHmac: 'hmac', codeTtlMs: 300000, resendIntervalMs: 60000, dailyLimit: 10,
      statusTtlMs: 86700000, idempotencyFingerprint: '', idempotencyTtlMs: 86400000, testNumber: false, streamCap: 100000, requestPrefix: k.requestPrefix,
      ipLimitPerHour: 20, budgetPerMinute: 0, requestLimit: 300, requestWindowMs: 60000, client: '1.2.3.5', job }))
  t.same(reply.map(String), ['ok', '0-w1', String(now + 300000), String(now + 60000)])
  const plain = server.client()
  const record = await plain.hgetall(k.request('0-w1'))
  t.same([record.attempts, record.createdAt, record.queuedAt, record.updatedAt, record.expiresAt], ['0', String(now), String(now), String(now), String(now + 300000)])
  const number = await plain.hgetall(k.number(m))
  t.same([number['register:requesterTries'], number['register:otherTries'], number['register:expiresAt'], number['register:resendAt'], number.sends],
    ['0', '0', String(now + 300000), String(now + 60000), String(now)])
  t.same(await plain.zrange(ip, '0', '-1', 'WITHSCORES'), ['still-in', String(now - 3_599_999), '0-w1', String(now)], 'the hourly window dropped what slid out and took the send')
})
