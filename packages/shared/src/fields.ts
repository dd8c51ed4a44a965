/**
 * A Redis reply of the form [k1, v1, k2, v2, …] (a stream entry's fields, HGETALL in RESP2,
 * XINFO) as an object. A trailing key without a value is dropped; a repeated key keeps its last value.
 */
export function recordOf<V = unknown>(flat: readonly unknown[]): Record<string, V> {
  const out: Record<string, V> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1] as V
  return out
}
