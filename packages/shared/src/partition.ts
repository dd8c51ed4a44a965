/**
 * A stable hash of the E.164 mobile picks its partition. FNV-1a (32 bit) is
 * fixed forever: changing it, like changing STREAM_PARTITIONS, moves numbers
 * to other partitions (see README, "Scaling out").
 */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

export const partitionIndexOf = (key: string, count: number): number => fnv1a32(key) % count
