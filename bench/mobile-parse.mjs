// µs per parseMobile() call for the common input forms. usage: pnpm build && node bench/mobile-parse.mjs [iterations]
// Also times parseMobileFull (the libphonenumber-only path) when the build exports it.
import * as shared from '../packages/shared/dist/index.js'

const iterations = Number(process.argv[2] ?? 200_000)
const inputs = ['13812345678', '+86 138-1234-5678', '+8613812345678', '8613812345678', '12812345678', '+447400123456']
const fns = { parseMobile: shared.parseMobile }
if (shared.parseMobileFull) fns.parseMobileFull = shared.parseMobileFull

let sink = 0
const time = (fn, input) => {
  for (let i = 0; i < 20_000; i++) sink += fn(input).ok ? 1 : 0 // warm up
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) sink += fn(input).ok ? 1 : 0
  return Number(process.hrtime.bigint() - t0) / 1e3 / iterations
}

for (const input of inputs) {
  const row = { input }
  for (const [name, fn] of Object.entries(fns)) {
    // best of 3 runs, to damp scheduler noise
    row[`${name} µs`] = Math.min(time(fn, input), time(fn, input), time(fn, input)).toFixed(3)
  }
  console.log(JSON.stringify(row))
}
if (sink < 0) console.log(sink)
