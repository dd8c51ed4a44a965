import { randomChunk } from './random-pool.js'

/**
 * `<partition>-<16 url-safe chars>`: the partition travels in the id so the
 * status route finds the record without a scan.
 */
export const REQUEST_ID_PATTERN = '^\\d{1,4}-[A-Za-z0-9_-]{16}$'

const ID_BYTES = 12

export const newRequestId = (partition: number): string => `${partition}-${randomChunk(ID_BYTES).toString('base64url')}`

export function partitionOfRequestId(id: string): number {
  return Number.parseInt(id.slice(0, id.indexOf('-')), 10)
}
