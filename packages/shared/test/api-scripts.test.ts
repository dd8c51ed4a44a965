import { readFileSync } from 'node:fs'
import { startRedis } from '@sms-verify/testing'
import t from 'tap'
import {
  bulkJobs, bulkScript, countScript, createRedis, decodeJob, decodeStatusRecord, encodeJob, keys, partition, receiptScript, verifyScript, windowScript,
} from '../src/index.js'

// The API-side scripts through their typed boundaries, against a real server; and each
// script's header against its builder, so the two cannot drift apart.

const server = await startRedis()
t.teardown(() => server.stop())
const redis = createRedis({ REDIS_URL: server.url, REDIS_CLUSTER_NODES: [] })
t.teardown(() => redis.disconnect())
const plain = server.client()
const k = keys(partition(0, 1, false))

t.beforeEach(async () => { await plain.flushall() })

/** The highest KEYS[n] and ARGV[n] a script's header names (ranges like ARGV[12..] are the variable tail). */
function headerCounts(file: string): { keys: number, argv: number } {
  const header = readFileSync(new URL(`../lua/${file}`, import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('--')).join('\n')
  const most = (name: string) => Math.max(0, ...[...header.matchAll(new RegExp(`${name}\\[(\\d+)\\]`, 'g'))].map((m) => Number(m[1])))
  return { keys: most('KEYS'), argv: most('ARGV') }
}

t.test('each header names as many KEYS and ARGV as its builder passes', async (t) => {
  const bulkKeys = bulkScript.keys({ request: 'r', stream: 's', idempotency: 'i' })
  const bulkArgs = bulkScript.args({ now: 1, requestId: 'x', idempotencyFingerprint: '', idempotencyTtlMs: 1, statusTtlMs: 1, recipients: 0, streamCap: 1,
    answer: '{}', expiresAt: 1, testResults: {}, jobs: [] })
  t.same(headerCounts('bulk.lua'), { keys: bulkKeys.length, argv: bulkArgs.length }, 'bulk.lua (without jobs)')
  t.same(headerCounts('window.lua'), { keys: 1, argv: windowScript.args({ window: 'w', now: 1, windowMs: 1, limit: 1, member: 'm' }).length - 1 })
  t.same(headerCounts('count.lua'), { keys: 1, argv: countScript.args({ counter: 'c', limit: 1, windowMs: 1 }).length - 1 })
  t.same(headerCounts('receipt.lua'), { keys: 1, argv: receiptScript.args({ serial: 's', now: 1, delivered: true, reason: '', requestPrefix: 'p' }).length - 1 })
  t.same(headerCounts('verify.lua'), { keys: verifyScript.keys({ number: 'n', failures: 'f', requestCounter: 'r' }).length,
    argv: verifyScript.args({ now: 1, codeHmac: 'h', requestPrefix: 'p', client: 'c', purpose: 'login' }).length })
  const verifyLua = readFileSync(new URL('../lua/verify.lua', import.meta.url), 'utf8')
  const settled = verifyScript.source({ maxTries: 5, maxFailuresPerDay: 20, requestLimit: 300, requestWindowMs: 60_000 })
  for (const [, name] of settled.matchAll(/^local ([A-Z_]+) =/gm)) t.match(verifyLua, new RegExp(`\\b${name!}\\b`), `verify.lua documents and uses ${name!}`)
})

t.test('bulk.lua: queues every job as encoded, remembers the answer for its key, refuses a full backlog', async (t) => {
  const now = Date.now()
  const mobiles = ['+8613800000001', '+8613800000002', '+12025550123']
  const jobs = bulkJobs({ requestId: '0-bulk', mobiles, purpose: 'register', params: ['hi'], createdAt: now, expiresAt: now + 60_000 })
  const call = (fingerprint: string, streamCap = 100) => redis.smsBulk(
    ...bulkScript.keys({ request: k.request('0-bulk'), stream: k.jobs, idempotency: k.idempotency('key') }),
    ...bulkScript.args({ now, requestId: '0-bulk', idempotencyFingerprint: fingerprint, idempotencyTtlMs: 60_000, statusTtlMs: 60_000, recipients: 4,
      streamCap, answer: '{"requestId":"0-bulk"}', expiresAt: now + 60_000, testResults: { '+8613800000009': { status: 'sent', provider: 'test' } }, jobs: jobs.map(encodeJob) }),
  ).then(bulkScript.reply)

  t.same(await call('', 1), { kind: 'backlog_full', retryAfterMs: 1000 }, 'two jobs do not fit a cap of one')
  t.same(await call('f1'), { kind: 'ok', requestId: '0-bulk' })
  const queued = (await plain.xrange(k.jobs, '-', '+')).map(([, fields]) => decodeJob(fields))
  t.same(queued, jobs.map((job) => ({ ok: true, job })), 'mainland and international apart, each job as encoded')
  const record = decodeStatusRecord(await plain.hgetall(k.request('0-bulk')))
  t.match(record, { kind: 'bulk', status: 'queued', recipients: 4, sent: 1, failed: 0, results: { '+8613800000009': { status: 'sent', provider: 'test' } } })
  t.same(await call('f1'), { kind: 'replay', answer: '{"requestId":"0-bulk"}' })
  t.same(await call('f2'), { kind: 'idempotency_mismatch' })
})

t.test('window.lua and count.lua: a place while the limit allows, then the wait', async (t) => {
  const now = Date.now()
  const take = (member: string) => redis.smsWindow(...windowScript.args({ window: 'w', now, windowMs: 60_000, limit: 2, member })).then(windowScript.reply)
  t.same(await take('a'), { ok: true, retryAfterMs: 0 })
  t.same(await take('b'), { ok: true, retryAfterMs: 0 })
  const refused = await take('c')
  t.equal(refused.ok, false)
  t.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 60_000, `waits until the oldest place leaves (${refused.retryAfterMs} ms)`)
  t.same(await plain.zrange('w', 0, '-1'), ['a', 'b'], 'a refusal takes no place')

  const count = () => redis.smsCount(...countScript.args({ counter: 'c', limit: 1, windowMs: 60_000 })).then(countScript.reply)
  t.same(await count(), { ok: true, retryAfterMs: 0 })
  const over = await count()
  t.equal(over.ok, false)
  t.ok(over.retryAfterMs > 0 && over.retryAfterMs <= 60_000, `until the window ends (${over.retryAfterMs} ms)`)
})

t.test('receipt.lua: unknown, applied with the queue time, then final', async (t) => {
  const apply = (delivered: boolean, reason: string) => redis.smsReceipt(...receiptScript.args({
    serial: k.serial('tencent', 'sn1'), now: 5000, delivered, reason, requestPrefix: k.requestPrefix,
  })).then(receiptScript.reply)
  t.same(await apply(true, ''), { result: 'unknown' })
  await plain.set(k.serial('tencent', 'sn1'), '0-r1')
  await plain.hset(k.request('0-r1'), 'requestId', '0-r1', 'status', 'sent', 'queuedAt', '1000')
  t.same(await apply(false, 'MK:0001'), { result: 'applied', queuedAt: 1000 })
  t.same(await apply(true, ''), { result: 'final', queuedAt: 1000 })
  t.match(decodeStatusRecord(await plain.hgetall(k.request('0-r1'))), { status: 'undelivered', error: 'MK:0001', timestamps: { undelivered: 5000, delivered: 5000 } })
})
