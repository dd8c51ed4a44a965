import { createRedis, decodeDeadLetter, decodeJob, encodeDeadLetter, partition, recordOf } from '@sms-verify/shared'
import { makeTestProvider, startRedis, TEST_KEYS } from '@sms-verify/testing'
import { pino } from 'pino'
import t from 'tap'
import { Sender } from '../src/sender.js'
import { enqueueBulk, enqueueCode, mobileOf, testConfig } from './helpers/jobs.js'

// Pins the sender's dead letters to encodeDeadLetter, field for field and in order: the CLI,
// the replay and the tests read them through decodeDeadLetter.

const server = await startRedis()
t.teardown(() => server.stop())
const plain = server.client()
const p0 = partition(0, 1, false)

t.beforeEach(async () => { await plain.flushall() })

/** Ticks a fresh sender once over whatever is queued; returns the stream entry it read and the dead letter it wrote. */
async function deadLetterOfOneTick(): Promise<{ entryId: string, entry: string[], dead: string[] }> {
  const [[entryId, entry]] = await plain.xrange(p0.stream, '-', '+') as [[string, string[]]]
  const config = testConfig({ REDIS_URL: server.url })
  const redis = createRedis(config)
  const sender = new Sender({ config, redis, provider: makeTestProvider({ redis: plain }), logger: pino({ level: 'silent' }) })
  try {
    await sender.tick()
  } finally {
    await sender.close()
    redis.disconnect()
  }
  const letters = await plain.xrange(p0.deadStream, '-', '+')
  if (letters.length !== 1) throw new Error(`expected one dead letter, found ${letters.length}`)
  return { entryId, entry, dead: letters[0]![1] }
}

const failedAtOf = (dead: string[]) => Number(recordOf<string>(dead).failedAt)

t.test('a code job that failed for good: the letter is encodeDeadLetter of its entry, without the code', async (t) => {
  const mobile = mobileOf(1)
  await plain.hset(TEST_KEYS.behaviour, mobile, 'permanent')
  const requestId = await enqueueCode(plain, mobile)
  const { entryId, entry, dead } = await deadLetterOfOneTick()
  t.same(dead, encodeDeadLetter({
    requestId, reason: 'permanent', attempts: 1, lastError: 'test: invalid number', failedAt: failedAtOf(dead), entryId, mobile, original: entry,
  }))
  t.equal(recordOf<string>(dead).code, undefined, 'never the plaintext code')
  t.ok(decodeDeadLetter(dead).ok, 'and it decodes')
})

t.test('an entry that is no job: the letter names its request and number as the entry did', async (t) => {
  await plain.xadd(p0.stream, '*', 'v', '1', 'kind', 'code', 'requestId', '0-x', 'mobile', 'not-a-number')
  const { entryId, entry, dead } = await deadLetterOfOneTick()
  const why = decodeJob(entry)
  t.notOk(why.ok)
  t.same(dead, encodeDeadLetter({
    requestId: '0-x', reason: 'malformed', attempts: 0, lastError: why.ok ? '' : why.reason, failedAt: failedAtOf(dead), entryId, mobile: 'not-a-number', original: entry,
  }))
})

t.test('a bulk job whose numbers all failed: the letter carries those numbers as its own mobiles', async (t) => {
  const failing = [mobileOf(2), mobileOf(3)]
  await plain.hset(TEST_KEYS.behaviour, failing[0]!, 'permanent', failing[1]!, 'permanent')
  const requestId = await enqueueBulk(plain, failing)
  const { entryId, entry, dead } = await deadLetterOfOneTick()
  const letter = decodeDeadLetter(dead)
  if (!letter.ok) return t.fail(letter.reason)
  t.same([...letter.letter.mobiles!].sort(), [...failing].sort())
  t.same(dead, encodeDeadLetter({
    requestId, reason: 'permanent', attempts: 1, lastError: letter.letter.lastError, failedAt: failedAtOf(dead), entryId,
    mobiles: letter.letter.mobiles!, original: entry,
  }))
  t.match(letter.letter.lastError, /test: invalid number/)
})
