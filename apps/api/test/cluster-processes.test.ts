import t from 'tap'
import { randomBytes, randomInt } from 'node:crypto'
import { partitionIndexOf, partitionOfRequestId } from '@sms-verify/shared'
import { startRedis, startRedisCluster, waitFor, type RunningProcess } from '@sms-verify/testing'
import {
  clusterPartitions, deliveredCode, deliveriesIn, deliveryCounts, drained, getJson, ipSource, killNode, nodeInfo, placement,
  postJson, postSend, startApiProcess, startRecordingSender, type ApiProcess, type SendResult,
} from './helpers/cluster-system.js'

// Real processes against a real Redis Cluster (6 nodes: 3 masters, 3 replicas): two APIs
// (apps/api/dist/main.js) and three senders (apps/sender/dist/main.js), built by `pnpm test`,
// with REDIS_WAIT_REPLICAS=1 throughout. The senders' test provider records every delivery
// (and its code) in a standalone redis-server outside the cluster, so killing a master cannot
// touch the record. The failover test runs last: it leaves the cluster with a replaced master.

const PARTITIONS = 16
const IP_LIMIT = 5
const partitions = clusterPartitions(PARTITIONS)

// Teardown stops everything in reverse order, also when a test fails. If setup itself throws,
// or tap kills this process on its timeout, teardown never runs: the exit hook below still
// SIGKILLs every process this file started (cluster nodes included), so nothing outlives it.
const cleanup: Array<() => Promise<unknown>> = []
const pids = new Set<() => number | undefined>()
const killAll = () => { for (const pid of pids) try { const p = pid(); if (p) process.kill(p, 'SIGKILL') } catch { /* gone already */ } }
process.once('exit', killAll)
process.once('SIGTERM', () => { killAll(); process.exit(143) })
const runCleanup = async () => { for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined) }
t.teardown(runCleanup)

/** Starts them all in parallel; whatever started is stopped in teardown, even if another failed. */
async function startAll<T>(starts: Array<Promise<T>>, stop: (x: T) => Promise<unknown>, pid: (x: T) => number | undefined): Promise<T[]> {
  const settled = await Promise.allSettled(starts)
  for (const s of settled) {
    if (s.status === 'fulfilled') {
      cleanup.push(() => stop(s.value))
      pids.add(() => pid(s.value))
    }
  }
  const failed = settled.find((s) => s.status === 'rejected')
  if (failed) throw failed.reason
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value)
}

const cluster = await startRedisCluster()
cleanup.push(() => cluster.stop())
for (const node of cluster.nodes) pids.add(() => node.proc?.pid) // read at exit: a restarted node has a new pid
let recorderServer: Awaited<ReturnType<typeof startRedis>>
let apis: ApiProcess[]
let senders: RunningProcess[]
try {
  recorderServer = await startRedis()
  cleanup.push(() => recorderServer.stop())
  const recorderPid = Number(/process_id:(\d+)/.exec(await recorderServer.client().info('server'))?.[1])
  pids.add(() => recorderPid)

  const apiEnv = {
    REDIS_CLUSTER_NODES: cluster.seeds,
    STREAM_PARTITIONS: PARTITIONS,
    CODE_PEPPER: randomBytes(16).toString('hex'), // shared, so each API verifies the other's codes
    TRUST_PROXY: '127.0.0.1', // the client IP comes from X-Forwarded-For
    SEND_LIMIT_PER_IP_PER_HOUR: IP_LIMIT,
    RATE_LIMIT_PER_MINUTE: 1_000_000,
    REDIS_WAIT_REPLICAS: 1,
    REDIS_WAIT_TIMEOUT_MS: 1000,
    LOG_LEVEL: 'warn',
  }
  const senderEnv = {
    REDIS_CLUSTER_NODES: cluster.seeds,
    STREAM_PARTITIONS: PARTITIONS,
    TEST_PROVIDER_REDIS_URL: recorderServer.url,
    SENDER_BLOCK_MS: 200,
    SENDER_CLAIM_IDLE_MS: 2000,
    PROVIDER_TIMEOUT_MS: 1000,
    SHUTDOWN_TIMEOUT_MS: 2000,
  }
  ;[apis, senders] = await Promise.all([
    startAll([startApiProcess(apiEnv), startApiProcess(apiEnv)], (a) => a.proc.kill('SIGKILL'), (a) => a.proc.child.pid),
    startAll([startRecordingSender(senderEnv), startRecordingSender(senderEnv), startRecordingSender(senderEnv)], (p) => p.kill('SIGKILL'), (p) => p.child.pid),
  ]) as [ApiProcess[], RunningProcess[]]
} catch (err) {
  await runCleanup()
  throw err
}
const recorder = recorderServer.client()
const api = (i: number) => apis[i % 2]!

const prefix = randomInt(100, 1000)
let counter = 0
/** A fresh valid CN mobile per call, national form. */
const freshMobile = () => `139${prefix}${String(counter++).padStart(5, '0')}`
const e164 = (national: string) => `+86${national}`
const wrongCode = (code: string) => code.split('').map((d) => String((Number(d) + 1) % 10)).join('')
const tally = (results: readonly SendResult[]) => {
  const out: Record<string, number> = {}
  for (const r of results) { const k = `${r.status}${r.body.error ? ` ${String(r.body.error)}` : ''}`; out[k] = (out[k] ?? 0) + 1 }
  return JSON.stringify(out)
}

/** Every request id in `ids` has a delivery on record. */
const allDelivered = async (ids: Iterable<string>) => {
  const got = new Set((await deliveriesIn(recorder)).map((d) => d.requestId))
  for (const id of ids) if (!got.has(id)) return false
  return true
}

t.test('1000 numbers through two APIs and three senders: every 202 delivered exactly once, streams on at least two masters', async (t) => {
  const mobiles = Array.from({ length: 1000 }, freshMobile)
  const nextIp = ipSource(1)
  const results: SendResult[] = new Array(mobiles.length)
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: 40 }, async () => {
    while (next < mobiles.length) {
      const i = next++
      results[i] = await postSend(api(i), i % 2, mobiles[i]!, nextIp())
    }
  }))
  const sendMs = performance.now() - started
  const accepted = results.filter((r) => r.status === 202)
  t.equal(accepted.length, 1000, `every send accepted: ${tally(results)}`)
  t.same([0, 1].map((a) => accepted.filter((r) => r.api === a).length), [500, 500], 'both APIs answered their half')
  const ids = new Map(accepted.map((r) => [String(r.body.requestId), r.mobile]))
  t.equal(ids.size, accepted.length, 'distinct request ids')
  const misplaced = accepted.filter((r) => partitionOfRequestId(String(r.body.requestId)) !== partitionIndexOf(e164(r.mobile), PARTITIONS))
  t.equal(misplaced.length, 0, 'each request id names its mobile\'s partition')

  await waitFor(() => allDelivered(ids.keys()), { timeout: 60_000, interval: 200, what: 'a delivery for every 202' })
  await waitFor(() => drained(cluster, partitions), { timeout: 20_000, interval: 250, what: 'every partition read and acked' })
  const drainedMs = performance.now() - started
  const deliveries = (await deliveriesIn(recorder)).filter((d) => ids.has(d.requestId))
  const doubled = [...deliveryCounts(deliveries)].filter(([, n]) => n > 1)
  t.equal(deliveries.length, ids.size, 'one delivery per accepted request')
  t.same(doubled, [], 'none delivered twice')
  t.equal(deliveries.filter((d) => d.mobile !== e164(ids.get(d.requestId)!)).length, 0, 'each delivered to its own number')
  const perSender = senders.map((s) => deliveries.filter((d) => d.pid === s.child.pid).length)
  t.ok(perSender.every((n) => n > 0), `all three senders delivered (${perSender.join('/')})`)

  // Which master holds each partition stream, asked of that master directly (a wrong guess is a MOVED error).
  const place = await placement(cluster, partitions)
  const queuedPer = new Array<number>(PARTITIONS).fill(0)
  for (const id of ids.keys()) queuedPer[partitionOfRequestId(id)]!++
  t.same(place.filter((s) => s.entriesAdded < queuedPer[s.partition]!).map((s) => s.partition), [], 'every job is in its partition stream')
  const masters = new Set(place.filter((s) => s.entriesAdded > 0).map((s) => s.master))
  t.ok(masters.size >= 2, `non-empty streams live on ${masters.size} masters`)
  t.comment(`1000 sends in ${Math.round(sendMs)} ms, all delivered and acked after ${Math.round(drainedMs)} ms; per sender ${perSender.join('/')}; `
    + `streams per master ${JSON.stringify(Object.fromEntries([...masters].map((m) => [m, place.filter((s) => s.master === m && s.entriesAdded > 0).length])))}`)
})

t.test('50 parallel sends for one number, split across both APIs: one 202, 49 too_frequent, one job', async (t) => {
  const mobile = freshMobile()
  const p = partitionIndexOf(e164(mobile), PARTITIONS)
  const addedBefore = (await placement(cluster, [partitions[p]!]))[0]!.entriesAdded
  const nextIp = ipSource(2)
  const race = await Promise.all(Array.from({ length: 50 }, (_, i) => postSend(api(i), i % 2, mobile, nextIp())))
  const winners = race.filter((r) => r.status === 202)
  t.equal(winners.length, 1, `one winner: ${tally(race)}`)
  t.equal(race.filter((r) => r.status === 429 && r.body.error === 'too_frequent').length, 49, '49 too_frequent')
  t.same(new Set(race.map((r) => r.api)), new Set([0, 1]), 'both APIs took part')
  const requestId = String(winners[0]?.body.requestId)
  await waitFor(() => allDelivered([requestId]), { timeout: 15_000, what: 'the winner delivered' })
  await waitFor(() => drained(cluster, partitions), { timeout: 15_000, interval: 250, what: 'every partition read and acked' })
  t.equal((await placement(cluster, [partitions[p]!]))[0]!.entriesAdded - addedBefore, 1, 'one job queued')
  t.equal((await deliveriesIn(recorder)).filter((d) => d.mobile === e164(mobile)).length, 1, 'one delivery for the number')
})

t.test('a code delivered by a sender verifies through the other API', async (t) => {
  const mobile = freshMobile()
  const sent = await postSend(api(0), 0, mobile, '192.0.2.30')
  t.equal(sent.status, 202)
  const requestId = String(sent.body.requestId)
  const code = await waitFor(() => deliveredCode(recorder, requestId), { timeout: 15_000, what: 'the delivered code' })
  t.match(code, /^\d{6}$/)
  const verifyUrl = `${api(1).url}/v1/sms-codes/verify`
  const wrong = await postJson(verifyUrl, { mobile, purpose: 'register', code: wrongCode(code) })
  t.equal(wrong.status, 400)
  t.equal(wrong.body.error, 'wrong_code')
  const ok = await postJson(verifyUrl, { mobile, purpose: 'register', code })
  t.equal(ok.status, 200)
  t.same(ok.body, { verified: true })
  const status = await getJson(`${api(0).url}/v1/sms-codes/requests/${requestId}`)
  t.equal(status.status, 200)
  t.equal(status.body.status, 'verified')
  const again = await postJson(`${api(0).url}/v1/sms-codes/verify`, { mobile, purpose: 'register', code })
  t.equal(again.status, 404, 'used up on both APIs')
})

t.test(`per-IP send limit (${IP_LIMIT}/h) is shared by both APIs`, async (t) => {
  const ip = '192.0.2.40'
  const sends: SendResult[] = []
  for (let i = 0; i < IP_LIMIT; i++) sends.push(await postSend(api(i), i % 2, freshMobile(), ip))
  t.same(sends.map((r) => r.status), new Array(IP_LIMIT).fill(202), `${IP_LIMIT} accepted, alternating APIs`)
  for (const i of [IP_LIMIT, IP_LIMIT + 1]) {
    const refused = await postSend(api(i), i % 2, freshMobile(), ip)
    t.equal(refused.status, 429, `API ${i % 2} refuses the next one`)
    t.equal(refused.body.error, 'rate_limited')
    t.ok(Number(refused.body.retryAfter) > 0, 'with retryAfter')
  }
  t.equal((await postSend(api(0), 0, freshMobile(), '192.0.2.41')).status, 202, 'another client IP is still accepted')
})

t.test('a master SIGKILLed under sustained load, REDIS_WAIT_REPLICAS=1: fast 503s, recovery, every 202 delivered', async (t) => {
  const RATE = 40 // requests per second, fresh numbers, alternating APIs, open loop
  const TOTAL = 640 // 16 s
  const KILL_AT = 120 // the request index (3 s in) at which the master dies
  const HANG_MS = 3000
  const RECOVER_MS = 10_000

  const place = await placement(cluster, partitions)
  const owned = new Map<number, number[]>()
  for (const s of place) owned.set(s.master, [...(owned.get(s.master) ?? []), s.partition])
  const [victim, victimPartitions] = [...owned].sort((a, b) => b[1].length - a[1].length)[0]!
  // Every replica in sync first (a replica that never synced may not stand for election), and no
  // 5 s wait before a full sync (repl-diskless-sync-delay), so the node that comes back is a usable
  // replica in about a second: the test measures the service, not that Redis default.
  await waitFor(async () => {
    for (const node of cluster.nodes) {
      const info = await nodeInfo(node.port, 'replication')
      if (info.includes('role:slave') && !info.includes('master_link_status:up')) return false
    }
    return true
  }, { timeout: 15_000, interval: 100, what: 'every replica linked to its master' })
  for (const node of cluster.nodes) await cluster.client(node.port).config('SET', 'repl-diskless-sync-delay', '0')
  const onVictim = (mobile: string) => victimPartitions.includes(partitionIndexOf(e164(mobile), PARTITIONS))
  t.comment(`killing master ${victim}, which holds partitions ${victimPartitions.join(',')}`)

  const nextIp = ipSource(5)
  const results: SendResult[] = []
  const requests: Array<Promise<void>> = []
  let killedAt = Number.NaN
  let promotedAt = Number.NaN
  let replicaBackAt = Number.NaN
  let failover: Promise<void> | undefined
  const t0 = performance.now()
  for (let i = 0; i < TOTAL; i++) {
    const due = t0 + (i * 1000) / RATE
    if (due > performance.now()) await new Promise((r) => setTimeout(r, due - performance.now())) // pacing the load, not synchronisation
    requests.push(postSend(api(i), i % 2, freshMobile(), nextIp(), HANG_MS + 5000).then((r) => { results.push(r) }))
    if (i === KILL_AT) {
      failover = (async () => {
        const restart = await killNode(cluster, victim)
        killedAt = performance.now()
        // A replica takes over the dead master's slots...
        await waitFor(async () => (await cluster.masterOf(partitions[victimPartitions[0]!]!.stream)) !== victim,
          { timeout: 15_000, interval: 50, what: 'a replica promoted' })
        promotedAt = performance.now()
        // ...and, as its supervisor would, the dead node comes back: it rejoins as that replica's replica,
        // which is what lets WAIT 1 succeed again on the promoted master.
        await restart()
        await waitFor(async () => /role:slave[\s\S]*master_link_status:up/.test(await nodeInfo(victim, 'replication')),
          { timeout: 15_000, interval: 50, what: 'the restarted node syncing as a replica' })
        replicaBackAt = performance.now()
      })()
    }
  }
  await Promise.all(requests)
  await failover
  const loadMs = performance.now() - t0
  t.ok(Number.isFinite(killedAt), 'the master was killed during the load')

  const rel = (x: number) => Math.round(x - killedAt)
  const ok = results.filter((r) => r.status === 202)
  const unavailable = results.filter((r) => r.status === 503)
  const other = results.filter((r) => r.status !== 202 && r.status !== 503)
  const longest = Math.max(...results.map((r) => r.ms))
  // Service is back from the start of the first request after the last refused one on: every later send is accepted.
  const byStart = [...results].sort((a, b) => a.startedAt - b.startedAt)
  let lastRefused = byStart.length - 1
  while (lastRefused >= 0 && byStart[lastRefused]!.status === 202) lastRefused--
  const backAt = lastRefused === -1 ? killedAt : (byStart[lastRefused + 1]?.startedAt ?? Number.POSITIVE_INFINITY)
  const afterBack = byStart.slice(lastRefused + 1)
  t.ok(byStart.filter((r) => onVictim(r.mobile) && r.startedAt >= killedAt + RECOVER_MS).length >= 10, 'the load covers the killed master\'s partitions past the recovery deadline')
  t.same(other.map((r) => `${r.status} ${String(r.body.error)}`), [], 'only 202 or 503: no hang cut off, no other error')
  t.equal(unavailable.filter((r) => r.body.error !== 'unavailable').length, 0, '503s are unavailable')
  // A fail-fast cluster client allows two redirections, so a send during the failover ends within ~2 s.
  t.ok(longest < HANG_MS, `no request took ${HANG_MS} ms or more (longest ${Math.round(longest)} ms)`)
  // After the promotion the script answers MOVED on the script+WAIT pipeline; the API refreshes the
  // slot map and retries once (and refreshes it every 2 s anyway), so no process needs a restart.
  t.ok(backAt - killedAt < RECOVER_MS, `every send accepted again within ${RECOVER_MS / 1000} s of the kill (from ${rel(backAt)} ms on)`)
  t.ok(afterBack.filter((r) => onVictim(r.mobile)).length >= 10, 'and those include sends to the killed master\'s partitions')
  t.ok([...apis.map((a) => a.proc), ...senders].every((p) => p.child.exitCode === null && p.child.signalCode === null), 'no API or sender process restarted')

  // Every 202 is delivered: poll with a deadline, then count what is missing.
  const ids = new Set(ok.map((r) => String(r.body.requestId)))
  await waitFor(() => allDelivered(ids), { timeout: 30_000, interval: 250, what: 'a delivery for every 202' }).catch(() => undefined)
  await waitFor(() => drained(cluster, partitions), { timeout: 20_000, interval: 250, what: 'every partition read and acked' }).catch(() => undefined)
  const counts = deliveryCounts(await deliveriesIn(recorder))
  const lost = [...ids].filter((id) => !counts.has(id))
  const doubled = [...ids].filter((id) => (counts.get(id) ?? 0) > 1)
  const doubled503 = unavailable.filter((r) => (counts.get(String(r.body.requestId)) ?? 0) > 1).length
  t.same(lost, [], 'no 202-answered job lost')
  t.ok(doubled.length <= ok.length / 100, `at most 1% delivered twice (${doubled.length} of ${ok.length})`)

  const timeline: string[] = []
  for (let sec = -1; (sec + 1) * 1000 <= Math.max(...results.map((r) => r.startedAt)) - killedAt; sec++) {
    const inSec = results.filter((r) => onVictim(r.mobile) && r.startedAt >= killedAt + sec * 1000 && r.startedAt < killedAt + (sec + 1) * 1000)
    timeline.push(`${sec}s ${inSec.filter((r) => r.status === 202).length}/${inSec.length}`)
  }
  t.comment(`failover figures: sends to the killed master's partitions accepted per second after the kill: ${timeline.join(', ')}`)
  const first503 = Math.min(...unavailable.map((r) => r.startedAt))
  const last503 = Math.max(...unavailable.map((r) => r.startedAt + r.ms))
  t.comment(`failover figures: ${results.length} sends in ${Math.round(loadMs)} ms at ${RATE}/s; master ${victim} killed at request ${KILL_AT}; `
    + `replica promoted ${rel(promotedAt)} ms after the kill, old master back as a replica at ${rel(replicaBackAt)} ms`)
  t.comment(`failover figures: 202 ${ok.length}, 503 ${unavailable.length}; 503 window ${unavailable.length ? `${rel(first503)} .. ${rel(last503)} ms after the kill (${Math.round(last503 - first503)} ms)` : 'none'}; `
    + `every send accepted from ${Number.isFinite(backAt) ? `${rel(backAt)} ms after the kill on` : 'never again'}; longest request ${Math.round(longest)} ms; `
    + `jobs lost ${lost.length}, doubled ${doubled.length} (and ${doubled503} of the 503-answered ones)`)
})
