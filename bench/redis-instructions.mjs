// Redis instructions per send, counted by valgrind's callgrind: the same figure on every run of
// the same code, where Redis CPU time swings by a third on this machine. For weighing a change to
// a script. It counts Redis's own instructions (the script, the commands, parsing and replies),
// not the kernel's work on its sockets, which `pnpm bench`'s CPU time includes.
// Also per verify (the API's, on right codes its own send load queued, and the bare verify
// reference's) and per job of a drain: the real Sender's and a BullMQ worker's (sender.mjs's
// drains, at concurrency 64; the 5 ms end-of-drain poll counts too, alike for both).
// node bench/redis-instructions.mjs [requests or jobs per server, 4000]
//   [reference,api,bullmq,verifyReference,verify,sender,bullmqWorker]
// With BENCH_KEEP_DUMPS=1 the callgrind dumps stay (one per server, its path printed) for
// `callgrind_annotate <dump>`: where Redis spends the instructions, by function.
import { freePort, reapOnExit, waitFor } from '@sms-verify/testing/dist'
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { load, nextMobile, withServer } from './http.mjs'
import { CODE_PEPPER, JOB_SEAL_KEY, apiVerify, sendPeers, verifyReference } from './http-peers.mjs'
import { BENCH_CONCURRENCY, drainBullmq, drainSender } from './sender.mjs'
import { queuedCodes, seedReferenceCodes } from './verify-codes.mjs'

const requests = Number(process.argv[2] ?? 4000)
const wanted = (process.argv[3] ?? 'reference,api,bullmq,verifyReference,verify,sender,bullmqWorker').split(',')
// Under valgrind Redis runs some fifty times slower: fewer connections keep the servers' Redis timeouts away.
const CONNECTIONS = 16

async function startCountedRedis() {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'sms-redis-instr-'))
  // reaped with this process: a failed run must not leave a server running under valgrind
  const proc = reapOnExit(spawn('valgrind', [
    '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${dir}/callgrind.out`,
    'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
  ], { stdio: 'ignore' }))
  const client = new Redis({ port, retryStrategy: () => 100 })
  client.on('error', () => undefined) // refused until valgrind has started the server
  await waitFor(async () => (await client.ping()) === 'PONG', { timeout: 60_000, what: 'redis-server under valgrind' })
  const control = (...args) => execFileSync('callgrind_control', [...args, String(proc.pid)], { stdio: 'ignore' })
  /** instructions from `control('-i', 'on')` to now, from the dump this writes */
  const collected = () => {
    control('-i', 'off')
    control('-d')
    const dumps = readdirSync(dir).filter((f) => /^callgrind\.out\.\d+$/.test(f))
    const newest = dumps.sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop())).pop()
    if (process.env.BENCH_KEEP_DUMPS) console.log(`callgrind dump: ${join(dir, newest)}`)
    return Number(/^totals: (\d+)/m.exec(readFileSync(join(dir, newest), 'utf8'))[1])
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    client,
    count: () => control('-i', 'on'),
    collected,
    async stop() {
      client.disconnect()
      proc.kill('SIGTERM')
      await once(proc, 'exit')
      if (!process.env.BENCH_KEEP_DUMPS) rmSync(dir, { recursive: true, force: true })
    },
  }
}

const redis = await startCountedRedis()
const rows = []
const warm = Math.max(CONNECTIONS, requests / 4)
/** `warm` requests uncounted, then `requests` counted: a row of the table. */
async function counted(server, options) {
  await load({ ...options, connections: CONNECTIONS, amount: warm })
  redis.count()
  const figures = await load({ ...options, connections: CONNECTIONS, amount: requests })
  const instructions = redis.collected()
  // errors (timeouts under valgrind's slow Redis) are work counted for no answer: a row with any reads high
  rows.push({ server, requests: figures.total, accepted: figures.accepted, errors: figures.errors, instructionsPerRequest: Math.round(instructions / Math.max(1, figures.accepted)) })
}
/** A body per code, in order: each right code is verified once. */
const inOrder = (codes) => {
  let next = 0
  return () => codes[next++]
}
try {
  for (const peer of sendPeers.filter((p) => wanted.includes(p.id))) {
    await withServer(peer, redis.url, redis.client, (_, port) => counted(peer.id, { port, path: peer.path, body: () => peer.body(nextMobile(peer.prefix)) }))
  }
  const api = sendPeers.find((p) => p.id === 'api')
  if (wanted.includes('verify')) {
    await withServer(api, redis.url, redis.client, async (_, port) => {
      await load({ port, path: api.path, body: () => api.body(nextMobile(api.prefix)), connections: CONNECTIONS, amount: warm + requests })
      const codes = await queuedCodes(redis.client, Buffer.from(JOB_SEAL_KEY, 'base64'), warm + requests)
      await counted('verify', { port, path: apiVerify.path, body: inOrder(codes) })
    })
  }
  if (wanted.includes('verifyReference')) {
    await withServer(verifyReference, redis.url, redis.client, async (_, port) => {
      const mobiles = Array.from({ length: warm + requests }, () => nextMobile(verifyReference.prefix))
      const codes = await seedReferenceCodes(redis.client, CODE_PEPPER, mobiles)
      await counted('verifyReference', { port, path: verifyReference.path, body: inOrder(codes) })
    })
  }
  const drains = {
    sender: (counting) => drainSender(redis.url, { jobs: requests, concurrency: BENCH_CONCURRENCY, latencyMs: 0, counting }),
    bullmqWorker: (counting) => drainBullmq(redis.port, { jobs: requests, concurrency: BENCH_CONCURRENCY, counting }),
  }
  for (const [id, drain] of Object.entries(drains).filter(([id]) => wanted.includes(id))) {
    await redis.client.flushall('SYNC')
    await drain(undefined) // warm-up, uncounted
    const { instructions } = await drain({ start: redis.count, stop: () => ({ instructions: redis.collected() }) })
    rows.push({ server: id, requests, accepted: requests, instructionsPerRequest: Math.round(instructions / requests) })
  }
} finally {
  await redis.stop()
}
console.table(rows)
const perRequest = (server) => rows.find((r) => r.server === server)?.instructionsPerRequest
for (const [a, b] of [['api', 'reference'], ['bullmq', 'reference'], ['verify', 'verifyReference'], ['sender', 'bullmqWorker']]) {
  if (perRequest(a) && perRequest(b)) console.log(`${a} / ${b}: ${(perRequest(a) / perRequest(b)).toFixed(3)}`)
}
process.exit(0) // the drains' clients would go on reconnecting to the stopped server
