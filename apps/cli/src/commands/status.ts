import { decodeStatusRecord, keys, partition, partitionOfRequestId, REQUEST_ID_PATTERN, statusOnRead } from '@sms-verify/shared'
import type { Context } from '../context.js'
import { notFound, usageError } from '../errors.js'
import { isoTime, table } from '../format.js'
import { recordField } from '../record-field.js'

const requestIdRe = new RegExp(REQUEST_ID_PATTERN)
const SECRET = new Set(['code', 'h', 'sealed'])

/** The status record as the API's status route reads it, numbers masked. */
export async function status(ctx: Context, requestId: string): Promise<void> {
  if (!requestIdRe.test(requestId)) throw usageError(`not a request id: ${requestId} (expected like 3-AbCdEfGhIjKlMnOp)`)
  const index = partitionOfRequestId(requestId)
  if (index >= ctx.partitions.length) throw notFound(`request ${requestId} names partition ${index}, but there are ${ctx.partitions.length} (is STREAM_PARTITIONS right?)`)
  const p = partition(index, ctx.partitions.length, ctx.cluster)
  const raw = await ctx.redis().hgetall(keys(p).request(requestId))
  const decoded = decodeStatusRecord(raw)
  if (!decoded) throw notFound(`no request ${requestId} (never made, or older than STATUS_TTL_SECONDS)`)

  const record: Record<string, string | number> = {}
  for (const [k, v] of Object.entries(raw)) {
    if (SECRET.has(k)) continue
    record[k] = recordField(k, v)
  }
  // Like the API: a code that expired unchecked reads `expired`.
  record.status = statusOnRead(decoded, Date.now()).status
  record.partition = index

  if (ctx.json) return ctx.io.out(JSON.stringify(record))
  ctx.io.out(table([['field', 'value'], ...Object.entries(record).sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => [k, k.endsWith('At') && typeof v === 'number' ? `${isoTime(v)} (${v})` : v])]))
}
