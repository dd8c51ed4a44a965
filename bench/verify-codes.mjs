// The right codes for a verify load. The real API's codes are read back from what its
// send route wrote: each job in the stream carries its code, sealed under JOB_SEAL_KEY,
// which the bench holds as an operator's sender does. So the codes under test went
// through the API's own send path (generation, HMAC under the pepper, every guard), and
// the bench writes no key of the service's data model, which other work keeps changing.
// The bare verify reference gets its stored hashes written here directly.
import { createHmac, randomInt } from 'node:crypto'
import { STREAM_PREFIX, decodeJob, unseal } from '@sms-verify/shared'

const BATCH = 5_000

async function streamsOfJobs(redis) {
  const streams = []
  let cursor = '0'
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${STREAM_PREFIX}*`, 'TYPE', 'stream', 'COUNT', 1000)
    cursor = next
    streams.push(...found.filter((name) => !name.includes(':dead')))
  } while (cursor !== '0')
  return streams
}

/** Every code job queued on this Redis, as { mobile, purpose, code }, up to `limit`. */
export async function queuedCodes(redis, sealKey, limit) {
  const codes = []
  for (const stream of await streamsOfJobs(redis)) {
    for (let start = '-'; codes.length < limit;) {
      const entries = await redis.xrange(stream, start, '+', 'COUNT', BATCH)
      for (const [, fields] of entries) {
        const decoded = decodeJob(fields)
        if (!decoded.ok) throw new Error(`bench: a queued job does not decode: ${decoded.reason}`)
        const job = decoded.job
        if (job.kind !== 'code') continue
        const code = job.sealed === undefined ? job.code : unseal(sealKey, job.sealed, job.requestId)
        codes.push({ mobile: job.mobile, purpose: job.purpose, code })
      }
      if (entries.length < BATCH) break
      start = `(${entries.at(-1)[0]}`
    }
  }
  return codes.slice(0, limit)
}

/** Stores a fresh code's hash per mobile for the bare verify reference (peers/reference-verify.mjs); returns the codes. */
export async function seedReferenceCodes(redis, pepper, mobiles) {
  const codes = mobiles.map((mobile) => ({ mobile, code: String(randomInt(0, 1_000_000)).padStart(6, '0') }))
  for (let i = 0; i < codes.length; i += BATCH) {
    const pipe = redis.pipeline()
    for (const { mobile, code } of codes.slice(i, i + BATCH)) {
      pipe.set(`ref:vcode:${mobile}`, createHmac('sha256', pepper).update(`${mobile}\0${code}`).digest('base64url'), 'EX', 300)
    }
    await pipe.exec()
  }
  return codes
}
