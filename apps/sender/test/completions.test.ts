import t from 'tap'
import { GROUP, createRedis, decodeJob, keys, partition } from '@sms-verify/shared'
import { startRedis, waitFor } from '@sms-verify/testing'
import { pino } from 'pino'
import { Completions } from '../src/completions.js'
import { defineSenderScripts, jobKeys, type FinishItem } from '../src/scripts.js'
import { entryOf, type Leased } from '../src/window.js'
import { enqueueCode, mobileOf } from './helpers/jobs.js'

// Completions against a real Redis: finish.lua batches of one partition, several on their way
// at once, none of them losing or repeating a job.

const server = await startRedis()
t.teardown(() => server.stop())
const plain = server.client()
const redis = defineSenderScripts(createRedis({ REDIS_URL: server.url, REDIS_CLUSTER_NODES: [] }))
t.teardown(() => redis.disconnect())
const p0 = partition(0, 1, false)
const k = keys(p0)

/** `n` queued jobs, read by the group as a sender would (so finish.lua's XACK finds them pending), leased. */
async function accepted(n: number): Promise<Array<{ h: Leased, item: FinishItem }>> {
  for (let i = 0; i < n; i++) await enqueueCode(plain, mobileOf(i))
  await plain.xgroup('CREATE', p0.stream, GROUP, '0', 'MKSTREAM')
  const reply = await plain.xreadgroup('GROUP', GROUP, 'test', 'COUNT', n, 'STREAMS', p0.stream, '>') as Array<[string, Array<[string, string[]]>]>
  return reply[0]![1].map(([id, fields], i) => {
    const decoded = decodeJob(fields)
    if (!decoded.ok || decoded.job.kind !== 'code') throw new Error('not a code job')
    const job = decoded.job
    const h: Leased = { e: entryOf(p0, id, fields), job, token: `token-${i}`, base: 0 }
    const item: FinishItem = {
      keys: jobKeys(k, job), serial: '', entryId: id, status: 'sent', doneMs: 60_000, serialMs: 0, requestId: job.requestId,
      results: '', attempts: 1, fields: { provider: 'test', messageId: `m-${i}` },
    }
    return { h, item }
  })
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

t.test('up to four finish calls per partition are on their way at once; what completes meanwhile waits for one of them', async (t) => {
  const jobs = await accepted(10)
  const batches: number[] = []
  const completions = new Completions({
    redis, keys: [k], logger: pino({ level: 'silent' }), deadline: () => Number.POSITIVE_INFINITY,
    written: (_p, entries) => { batches.push(entries.length) },
  })
  // Redis holds every write until UNPAUSE: each finish call stays on its way, whatever the machine's speed.
  await plain.call('CLIENT', 'PAUSE', 60_000, 'WRITE')
  try {
    for (const { h, item } of jobs) {
      completions.add(h, item) // one job a turn: each turn may start its own call
      await nextTurn()
    }
    t.same(batches, [], 'nothing written while Redis is paused')
  } finally {
    await plain.call('CLIENT', 'UNPAUSE')
  }
  await waitFor(() => batches.reduce((a, b) => a + b, 0) === jobs.length, { timeout: 10_000, interval: 5, what: 'every completion written' })
  t.same([...batches].sort((a, b) => a - b), [1, 1, 1, 1, 6], 'four calls of one job each, then the six that waited in one call')
  const statuses = await Promise.all(jobs.map(({ item }) => plain.hget(item.keys.request, 'status')))
  t.same(statuses, jobs.map(() => 'sent'), 'every job recorded sent')
  const pending = await plain.xpending(p0.stream, GROUP) as [number, ...unknown[]]
  t.equal(pending[0], 0, 'every entry acked')
  const messageIds = await Promise.all(jobs.map(({ item }) => plain.hget(item.keys.request, 'messageId')))
  t.same(messageIds, jobs.map((_, i) => `m-${i}`), 'each job carries its own completion\'s fields')
})
