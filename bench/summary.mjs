// Rounds → one figure per server and one range per ratio. A server's figure is the median
// of its rounds; a ratio is taken within each round (the two servers ran a minute apart
// on the same machine) and reported as its median and range, the figure the targets read.
import { round } from './cpu.mjs'

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/** Median of every numeric field over the rounds, nested objects (commands by name) alike. */
function medianFields(runs) {
  const out = {}
  const keys = new Set(runs.flatMap((r) => Object.keys(r)))
  for (const key of keys) {
    const values = runs.map((r) => r[key])
    if (values.every((x) => typeof x === 'number')) out[key] = round(median(values), 4)
    else if (values.every((x) => x && typeof x === 'object')) out[key] = medianFields(values)
  }
  return out
}

export const medianOf = (runs) => ({ rounds: runs.length, ...medianFields(runs) })

/** { median, min, max, target, met } of a per-round ratio `of(round)`. */
export function ratio(rounds, of, target) {
  const xs = rounds.map(of).map((x) => round(x, 3))
  const m = round(median(xs), 3)
  const met = target === undefined ? undefined : target.atMost !== undefined ? m <= target.atMost : m >= target.atLeast
  return { median: m, min: Math.min(...xs), max: Math.max(...xs), perRound: xs, ...(target ? { target, met } : {}) }
}

/** The HTTP part's figures: a median row per server and the ratios. */
export function summarizeHttp(rounds) {
  const send = {}
  for (const id of Object.keys(rounds[0].send)) send[id] = medianOf(rounds.map((r) => r.send[id]))
  const verify = {}
  for (const id of Object.keys(rounds[0].verify)) verify[id] = medianOf(rounds.map((r) => r.verify[id]))
  const s = (id, field) => (r) => r.send[id][field]
  const v = (id, field) => (r) => r.verify[id][field]
  const per = (a, b) => (r) => a(r) / b(r)
  return {
    send, verify,
    ratios: {
      sendNodeCpuVsReference: ratio(rounds, per(s('api', 'nodeCpuMsPerRequest'), s('reference', 'nodeCpuMsPerRequest')), { atMost: 2 }),
      sendRedisCpuVsReference: ratio(rounds, per(s('api', 'redisCpuMicrosPerRequest'), s('reference', 'redisCpuMicrosPerRequest')), { atMost: 2 }),
      sendThroughputVsBullmq: ratio(rounds, per(s('api', 'requestsPerSec'), s('bullmq', 'requestsPerSec')), { atLeast: 1.5 }),
      sendThroughputVsReference: ratio(rounds, per(s('api', 'requestsPerSec'), s('reference', 'requestsPerSec'))),
      sendThroughputVsBetterAuth: ratio(rounds, per(s('api', 'requestsPerSec'), s('betterAuth', 'requestsPerSec'))),
      verifyNodeCpuVsReference: ratio(rounds, per(v('api', 'nodeCpuMsPerRequest'), v('reference', 'nodeCpuMsPerRequest'))),
      verifyRedisCpuVsReference: ratio(rounds, per(v('api', 'redisCpuMicrosPerRequest'), v('reference', 'redisCpuMicrosPerRequest'))),
      verifyThroughputVsReference: ratio(rounds, per(v('api', 'requestsPerSec'), v('reference', 'requestsPerSec'))),
    },
  }
}
