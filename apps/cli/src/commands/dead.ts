import { decodeDeadLetter, keys, maskMobilesIn, REQUEST_ID_PATTERN, type Partition } from '@sms-verify/shared'
import type { Context } from '../context.js'
import { deadEntries, deadLetterView, findDead, unreplayable, type DeadLetterView, type StreamEntry } from '../dead-entry.js'
import { CliError, EXIT, notFound, usageError } from '../errors.js'
import { isoTime, table } from '../format.js'
import { defineReplay, replayScript } from '../replay-script.js'

export async function deadList(ctx: Context, limit: number): Promise<void> {
  const redis = ctx.redis()
  const letters: DeadLetterView[] = []
  let total = 0
  for (const p of ctx.partitions) {
    for await (const [id, fields] of deadEntries(redis, p)) {
      total++
      if (letters.length < limit) letters.push(deadLetterView(p.index, id, fields))
    }
  }
  if (ctx.json) return ctx.io.out(JSON.stringify({ total, shown: letters.length, deadLetters: letters }))
  if (total === 0) return ctx.io.out('no dead letters')
  const rows: Array<Array<string | number>> = [['partition', 'id', 'dead since', 'request', 'kind', 'purpose', 'mobile', 'attempts', 'reason', 'error']]
  for (const d of letters) {
    rows.push([d.partition, d.id, isoTime(d.at), d.requestId ?? '-', d.kind ?? '?', d.purpose ?? '-',
      d.recipients !== undefined ? `${d.recipients} recipients` : d.mobile ?? '-', d.attempts ?? '-', d.reason ?? '-', d.error ?? '-'])
  }
  ctx.io.out(table(rows))
  if (total > letters.length) ctx.io.out(`… ${total - letters.length} more (raise --limit)`)
}

interface Replayed { partition: number, deadId: string, newId: string, requestId: string | null }
interface Skipped { partition: number, deadId: string, requestId: string | null, reason: 'no_code' | 'expired' | 'invalid', detail?: string }

const SKIP_TEXT = {
  no_code: 'holds no code (dead letters never keep a plaintext code; with JOB_SEAL_KEY they stay replayable): the person must ask for a new code',
  expired: 'its code has expired: the person must ask for a new code',
  invalid: 'is not a dead letter as the sender writes them; it stays for a look with XRANGE',
} as const

type Outcome = { replayed: Replayed } | { skipped: Skipped } | undefined

async function replayOne(ctx: Context, p: Partition, [id, fields]: StreamEntry, now: number): Promise<Outcome> {
  const decoded = decodeDeadLetter(fields)
  if (!decoded.ok) return { skipped: { partition: p.index, deadId: id, requestId: null, reason: 'invalid', detail: maskMobilesIn(decoded.reason) } }
  const { requestId } = decoded.letter
  const why = unreplayable(decoded.letter, now)
  if (why) return { skipped: { partition: p.index, deadId: id, requestId, reason: why } }
  // Without a request id the status key is a placeholder in the same slot, which the script leaves alone.
  const newId = replayScript.reply(await ctx.redis().smsReplay(...replayScript.args({
    deadStream: p.deadStream, stream: p.stream, request: keys(p).request(requestId), deadEntryId: id, now, requestId,
  })))
  return newId === undefined ? undefined : { replayed: { partition: p.index, deadId: id, newId, requestId } }
}

type Work = Array<{ p: Partition, entry: StreamEntry }>

const requestIdRe = new RegExp(REQUEST_ID_PATTERN)
const entryIdRe = /^\d+-\d+$/

/** The dead letters one entry id names; ids are per stream, so `only` picks the partition when two hold it. */
async function byEntryId(ctx: Context, id: string, only: number | undefined): Promise<Work> {
  const found = (await findDead(ctx.redis(), ctx.partitions, id)).filter(({ p }) => only === undefined || p.index === only)
  if (found.length === 0) throw notFound(`no dead letter ${id}${only === undefined ? '' : ` in partition ${only}`}`)
  if (found.length > 1) throw usageError(`dead letter id ${id} exists in partitions ${found.map(({ p }) => p.index).join(', ')}; choose one with --partition`)
  return found
}

/**
 * Every dead letter of one request: a code job has at most one, a bulk
 * notification one per chunk that died, possibly on several partitions.
 */
async function byRequestId(ctx: Context, requestId: string, only: number | undefined): Promise<Work> {
  const work: Work = []
  for (const p of ctx.partitions) {
    if (only !== undefined && p.index !== only) continue
    for await (const entry of deadEntries(ctx.redis(), p)) if (deadLetterView(p.index, ...entry).requestId === requestId) work.push({ p, entry })
  }
  if (work.length === 0) throw notFound(`no dead letter for request ${requestId}${only === undefined ? '' : ` in partition ${only}`}`)
  return work
}

async function everyDead(ctx: Context): Promise<Work> {
  // Collect first: replayed entries leave the stream while we page through it.
  const work: Work = []
  for (const p of ctx.partitions) for await (const entry of deadEntries(ctx.redis(), p)) work.push({ p, entry })
  return work
}

/**
 * Re-queues dead letters: the one an entry id names, those of a request id,
 * or all of them.
 */
export async function deadReplay(ctx: Context, id: string | undefined, all: boolean, only?: number): Promise<void> {
  if (!id === !all) throw usageError('dead replay takes one entry id, one request id or --all')
  const isRequest = id !== undefined && requestIdRe.test(id)
  if (id !== undefined && !isRequest && !entryIdRe.test(id)) {
    throw usageError(`not a stream entry id or a request id: ${id} (expected like 1715000000000-0 or 3-AbCdEfGhIjKlMnOp)`)
  }
  defineReplay(ctx.redis())
  const now = Date.now()
  const work = id === undefined ? await everyDead(ctx) : isRequest ? await byRequestId(ctx, id, only) : await byEntryId(ctx, id, only)
  const replayed: Replayed[] = []
  const skipped: Skipped[] = []
  for (const { p, entry } of work) {
    const o = await replayOne(ctx, p, entry, now)
    if (o && 'replayed' in o) replayed.push(o.replayed)
    if (o && 'skipped' in o) skipped.push(o.skipped)
  }
  if (id !== undefined && replayed.length === 0) {
    const what = isRequest ? `the dead letter of request ${id}` : `dead letter ${id}`
    if (skipped.length === 0) throw notFound(`${what} was replayed or purged meanwhile`)
    throw new CliError(`${what} was not replayed: ${SKIP_TEXT[skipped[0]!.reason]}`, EXIT.error, 'not_replayable')
  }
  if (ctx.json) return ctx.io.out(JSON.stringify({ replayed: replayed.length, skipped: skipped.length, entries: replayed, skippedEntries: skipped }))
  for (const r of replayed) ctx.io.out(`p${r.partition} ${r.deadId} → ${r.newId}  req ${r.requestId ?? '-'}`)
  for (const s of skipped) ctx.io.out(`p${s.partition} ${s.deadId} skipped  req ${s.requestId ?? '-'}: ${SKIP_TEXT[s.reason]}`)
  ctx.io.out(`replayed ${replayed.length}, skipped ${skipped.length}`)
}

export async function deadPurge(ctx: Context, yes: boolean): Promise<void> {
  if (!yes) throw usageError('dead purge deletes every dead letter for good; run it again with --yes')
  const redis = ctx.redis()
  // XLEN and DEL in one MULTI per partition, so the count is what was deleted.
  const counts = await Promise.all(ctx.partitions.map(async (p) => {
    const reply = await redis.multi().xlen(p.deadStream).del(p.deadStream).exec()
    const err = reply?.find(([e]) => e)?.[0]
    if (err) throw err
    return { partition: p.index, purged: Number(reply?.[0]?.[1] ?? 0) }
  }))
  const purged = counts.reduce((n, c) => n + c.purged, 0)
  if (ctx.json) return ctx.io.out(JSON.stringify({ purged, partitions: counts }))
  ctx.io.out(`purged ${purged} dead letter${purged === 1 ? '' : 's'}`)
}
