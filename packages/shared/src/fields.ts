/**
 * A Redis reply of the form [k1, v1, k2, v2, …] (a stream entry's fields, HGETALL in RESP2,
 * XINFO) as an object. A trailing key without a value is dropped; a repeated key keeps its last value.
 */
export function recordOf<V = unknown>(flat: readonly unknown[]): Record<string, V> {
  const out: Record<string, V> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const key = String(flat[i])
    // an own property, as Object.fromEntries makes it: assigning would set the prototype
    if (key === '__proto__') Object.defineProperty(out, key, { value: flat[i + 1], enumerable: true, writable: true, configurable: true })
    else out[key] = flat[i + 1] as V
  }
  return out
}

/** The same reply as [key, value] pairs, in order and with repeats, for a copy that must keep both. */
export function pairsOf<V = unknown>(flat: readonly unknown[]): Array<[key: string, value: V]> {
  const out: Array<[string, V]> = []
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([String(flat[i]), flat[i + 1] as V])
  return out
}
