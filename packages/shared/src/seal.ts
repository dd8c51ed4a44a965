import { createCipheriv, createDecipheriv } from 'node:crypto'
import { randomChunk } from './random-pool.js'

/**
 * AES-256-GCM sealing of the code inside a stream entry, with the request id
 * as associated data so a sealed code cannot be moved to another job.
 * Format: base64url(iv[12] | tag[16] | ciphertext).
 */
export function seal(key: Buffer, plaintext: string, requestId: string): string {
  const iv = randomChunk(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(requestId))
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')
}

/** Throws when the key, the request id or the bytes do not match. */
export function unseal(key: Buffer, sealed: string, requestId: string): string {
  const raw = Buffer.from(sealed, 'base64url')
  // A short input would otherwise pass a truncated tag, which GCM accepts unless its length is pinned.
  if (raw.length < 12 + 16) throw new Error('sealed code too short')
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12), { authTagLength: 16 })
  decipher.setAAD(Buffer.from(requestId))
  decipher.setAuthTag(raw.subarray(12, 28))
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
}

export const sealKeyFrom = (base64: string | undefined): Buffer | undefined =>
  base64 === undefined ? undefined : Buffer.from(base64, 'base64')
