import { recordOf } from '@sms-verify/shared'
/** Plain aligned columns; the first row is the header. */
export function table(rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = rows.map((r) => r.map(String))
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n')
}

/** Redis replies of the form [k1, v1, k2, v2, …] as an object. */
export function pairs(reply: unknown): Record<string, unknown> {
  return Array.isArray(reply) ? recordOf(reply) : {}
}

export const isoTime = (ms: number): string => (Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : '-')

/** The millisecond part of a stream entry id. */
export const idTime = (id: string): number => Number(id.slice(0, id.indexOf('-')))
