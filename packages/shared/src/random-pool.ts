import { randomBytes, randomFillSync } from 'node:crypto'

/**
 * Random bytes cut from one pooled getrandom call. A small randomBytes() is a call into
 * OpenSSL each time, about 5 µs: with a request id and a sealing IV per send it was the send
 * route's largest single cost (14 % of its CPU under load). Each chunk is handed out once and
 * copied, since the pool is refilled in place.
 */
const pool = Buffer.alloc(4096)
let offset = pool.length

export function randomChunk(size: number): Buffer {
  if (size > pool.length / 4) return randomBytes(size)
  if (offset + size > pool.length) {
    randomFillSync(pool)
    offset = 0
  }
  const chunk = Buffer.from(pool.subarray(offset, offset + size))
  offset += size
  return chunk
}
