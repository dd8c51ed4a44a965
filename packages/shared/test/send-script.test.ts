import t from 'tap'
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
