/**
 * Exponential backoff with full jitter: a uniform delay in
 * [0, min(cap, base * 2^(attempts-1))], so retries of many jobs that failed
 * together spread out instead of hitting the provider in waves.
 */
export function backoffMs(attempts: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempts - 1))
  return Math.floor(random() * ceiling)
}
