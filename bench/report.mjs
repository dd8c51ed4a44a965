// What a run prints and writes: the peers table (the columns), the measure rows,
// results/latest.json, and bench/README.md from its template. Figures are never edited by hand.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { sendPeers, verifyReference, apiVerify } from './http-peers.mjs'

const here = (name) => fileURLToPath(new URL(name, import.meta.url))
const thousands = (n) => Math.round(n).toLocaleString('en-US')
const ms = (x) => `${x.toFixed(3)} ms`
const us = (x) => `${Math.round(x)} µs`

/** The table, one line per server: the medians over the rounds. */
export function peerLines(http) {
  const line = (label, f) => [label, thousands(f.requestsPerSec), `${f.latencyP99Ms} ms`, ms(f.nodeCpuMsPerRequest), us(f.redisCpuMicrosPerRequest), String(f.redisCommandsPerRequest), `${f.non2xx} / ${f.errors}`]
  return [
    ...sendPeers.map((p) => line(p.label, http.send[p.id])),
    line(verifyReference.label, http.verify.reference),
    line(apiVerify.label, http.verify.api),
  ]
}
// A figure is per 2xx answer: the last column shows that (nearly) every request got one.
const PEER_HEADER = ['server', 'req/s', 'p99', 'Node CPU per request', 'Redis CPU per request', 'Redis commands per request', 'non-2xx / errors']

const range = (r) => `${r.median} (${r.min}–${r.max} over ${r.perRound.length} rounds)`
const verdict = (r) => (r.target ? `target ${r.target.atMost !== undefined ? '<=' : '>='} ${r.target.atMost ?? r.target.atLeast}: ${r.met ? 'met' : 'NOT met'}` : '')

/** [measure, value, note] rows for the ratios, the cluster and the sender. */
export function measureRows(results) {
  const rows = []
  if (results.http) {
    const r = results.http.ratios
    rows.push(['send: Node CPU per request, API / reference', range(r.sendNodeCpuVsReference), verdict(r.sendNodeCpuVsReference)])
    rows.push(['send: Redis CPU per request, API / reference', range(r.sendRedisCpuVsReference), verdict(r.sendRedisCpuVsReference)])
    rows.push(['send: throughput, API / BullMQ route', range(r.sendThroughputVsBullmq), verdict(r.sendThroughputVsBullmq)])
    rows.push(['send: throughput, API / reference', range(r.sendThroughputVsReference), ''])
    rows.push(['send: throughput, API / Better Auth', range(r.sendThroughputVsBetterAuth), ''])
    rows.push(['verify: Node CPU per request, API / reference', range(r.verifyNodeCpuVsReference), ''])
    rows.push(['verify: Redis CPU per request, API / reference', range(r.verifyRedisCpuVsReference), ''])
    rows.push(['verify: throughput, API / reference', range(r.verifyThroughputVsReference), ''])
    const api = results.http.send.api
    rows.push(['send: API Redis commands per request, by name', commandList(api.redisCommandsByName), 'INFO commandstats, median'])
    rows.push(['verify: API Redis commands per request, by name', commandList(results.http.verify.api.redisCommandsByName), 'INFO commandstats, median'])
  }
  if (results.cluster) {
    const c = results.cluster
    rows.push([`cluster (${c.masters} masters) send route (req/s)`, c.real.requestsPerSec, `p99 ${c.real.latencyP99Ms} ms, ${c.real.non2xx} non-2xx`])
    if (c.vsStandalone !== undefined) rows.push(['cluster vs standalone (target >= 0.6)', c.vsStandalone, ''])
    rows.push(['cluster: Node CPU per send (ms)', c.real.nodeCpuMsPerRequest, 'API process, /proc'])
    rows.push(['cluster: Redis commands per send', c.real.redisCommandsPerRequest, 'summed over masters'])
    rows.push(['cluster: Redis CPU per send (µs)', c.real.redisCpuMicrosPerRequest, 'summed over masters'])
    const e = c.capacityEstimate
    rows.push(['cluster: sends/s on own cores, 3/6/12 masters', `${e.masters3} / ${e.masters6} / ${e.masters12}`, `${e.perMasterCore} per master core`])
  }
  if (results.sender) for (const [k, v] of Object.entries(results.sender)) if (k !== 'targets') rows.push([`sender: ${k}`, v, results.sender.targets[k] ? `target ${results.sender.targets[k]}` : ''])
  return rows
}

const commandList = (byName) => Object.entries(byName ?? {}).sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} ${n}`).join(', ')

function printTable(header, lines) {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)))
  const fmt = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')
  console.log(`\n${fmt(header)}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}`)
  for (const l of lines) console.log(fmt(l))
}

const markdown = (header, lines) => {
  const escape = (v) => String(v).replaceAll('|', '\\|')
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...lines.map((l) => `| ${l.map(escape).join(' | ')} |`)].join('\n')
}

export function report(results, settings) {
  const peers = results.http ? peerLines(results.http) : []
  const rows = measureRows(results)
  if (peers.length) printTable(PEER_HEADER, peers)
  printTable(['measure', 'value', 'note'], rows)
  mkdirSync(here('results'), { recursive: true })
  const at = new Date().toISOString()
  writeFileSync(here('results/latest.json'), JSON.stringify({ at, ...settings, ...results }, null, 2))
  console.log('\nwritten bench/results/latest.json')
  writeBenchReadme(rows, peers, settings, at)
  console.log('written bench/README.md')
}

/** bench/README.md again from results/latest.json, after an edit of the template: no new figures. */
export function rerender() {
  const { at, rounds, seconds, warmSeconds, parts, wallSeconds, ...results } = JSON.parse(readFileSync(here('results/latest.json'), 'utf8'))
  writeBenchReadme(measureRows(results), results.http ? peerLines(results.http) : [], { rounds, seconds, warmSeconds, parts, wallSeconds }, at)
}

/** bench/README.md is the template with this run's tables. */
function writeBenchReadme(rows, peers, settings, at) {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`
  const text = readFileSync(here('README.template.md'), 'utf8')
    .replace('{{at}}', at.slice(0, 16).replace('T', ' ') + ' UTC')
    .replace('{{machine}}', machine)
    .replace('{{settings}}', `${settings.rounds} rounds of ${settings.seconds} s per server (after ${settings.warmSeconds} s of warm-up), 64 connections`)
    .replace('{{peers}}', peers.length ? markdown(PEER_HEADER, peers) : '_(the HTTP part did not run)_')
    .replace('{{table}}', markdown(['measure', 'value', 'note'], rows))
  writeFileSync(here('README.md'), text)
}
