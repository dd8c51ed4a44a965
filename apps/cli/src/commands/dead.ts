import { keys, type Partition } from '@sms-verify/shared'
import type { Context } from '../context.js'
import { DEAD_LETTER_FIELDS, deadEntries, deadLetter, findDead, type DeadLetter, type StreamEntry } from '../dead-entry.js'
import { notFound, usageError } from '../errors.js'
import { isoTime, table } from '../format.js'
import { defineReplay } from '../replay-script.js'

export async function deadList(ctx: Context, limit: number): Promise<void> {
  const redis = ctx.redis()
  const letters: DeadLetter[] = []
  let total = 0
  for (const p of ctx.partitions) {
    for await (const [id, fields] of deadEntries(redis, p)) {
      total++
      if (letters.length < limit) letters.push(deadLetter(p.index, id, fields))
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

interface Replayed { partition: number, deadId: string, newId: string, requestId: string | null, expired: boolean }

async function replayOne(ctx: Context, p: Partition, [id, fields]: StreamEntry, now: number): Promise<Replayed | undefined> {
  const view = deadLetter(p.index, id, fields)
  const k = keys(p)
  // The status key is only meaningful with a request id; a placeholder in the same slot keeps the script's keys valid.
  const request = k.request(view.requestId ?? '')
  const newId = await ctx.redis().smsReplay(p.deadStream, p.stream, request, id, now, view.requestId ?? '', ...DEAD_LETTER_FIELDS)
  if (newId === null) return undefined
  return { partition: p.index, deadId: id, newId, requestId: view.requestId, expired: view.expiresAt !== null && view.expiresAt <= now }
}

/** Re-queues dead letters: one id (in every partition that has it) or all of them. */
export async function deadReplay(ctx: Context, id: string | undefined, all: boolean): Promise<void> {
  if (!id === !all) throw usageError('dead replay takes one entry id or --all')
  if (id !== undefined && !/^\d+-\d+$/.test(id)) throw usageError(`not a stream entry id: ${id} (expected like 1715000000000-0)`)
  defineReplay(ctx.redis())
  const now = Date.now()
  const done: Replayed[] = []
  if (id !== undefined) {
    const found = await findDead(ctx.redis(), ctx.partitions, id)
    if (found.length === 0) throw notFound(`no dead letter ${id}`)
    for (const { p, entry } of found) {
      const r = await replayOne(ctx, p, entry, now)
      if (r) done.push(r)
    }
    if (done.length === 0) throw notFound(`dead letter ${id} was replayed or purged meanwhile`)
  } else {
    for (const p of ctx.partitions) {
      // Collect first: replayed entries leave the stream while we page through it.
      const entries: StreamEntry[] = []
      for await (const e of deadEntries(ctx.redis(), p)) entries.push(e)
      for (const e of entries) {
        const r = await replayOne(ctx, p, e, now)
        if (r) done.push(r)
      }
    }
  }
  if (ctx.json) return ctx.io.out(JSON.stringify({ replayed: done.length, entries: done }))
  for (const r of done) {
    ctx.io.out(`p${r.partition} ${r.deadId} → ${r.newId}  req ${r.requestId ?? '-'}${r.expired ? '  (its code has expired: the sender will mark it expired, not send it)' : ''}`)
  }
  ctx.io.out(`replayed ${done.length} dead letter${done.length === 1 ? '' : 's'}`)
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
