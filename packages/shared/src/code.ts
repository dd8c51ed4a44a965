import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto'

/** A code of `length` digits, zero-padded, from the CSPRNG. */
export function generateCode(length: number): string {
  return String(randomInt(0, 10 ** length)).padStart(length, '0')
}

/**
 * What stands for a code at rest: HMAC-SHA256 under the pepper, bound to the
 * number and purpose so one HMAC is useless for any other pair.
 */
export function codeHmac(pepper: Buffer, mobile: string, purpose: string, code: string): string {
  return createHmac('sha256', pepper).update(`${mobile}\0${purpose}\0${code}`).digest('base64url')
}

export const randomPepper = (): Buffer => randomBytes(32)

/** Constant-time comparison of two secrets of any length. */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a)
  const bb = Buffer.from(b)
  // Compare equal-length buffers so the length check leaks no timing of the content.
  return timingSafeEqual(ab.length === bb.length ? ab : bb, bb) && ab.length === bb.length
}
