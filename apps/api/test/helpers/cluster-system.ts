import { spawn } from 'node:child_process'
import { readlinkSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { allPartitions, GROUP, recordOf, type Partition } from '@sms-verify/shared'
import {
  freePort, reapOnExit, runNode, startSenderProcess, stringEnv, TEST_KEYS, TEST_SECRETS, waitFor,
  type RedisCluster, type RunningProcess, type TestEnv,
} from '@sms-verify/testing'
import { Redis } from 'ioredis'
import { CODES_KEY } from './recording-provider.mjs'

/** The sender's provider for these tests: records deliveries and codes in a standalone redis. */
export const recordingProviderModule = fileURLToPath(new URL('./recording-provider.mjs', import.meta.url))

export interface ApiProcess { readonly proc: RunningProcess, readonly url: string }

/**
 * A real API process (apps/api/dist/main.js), ready when /readyz answers 200 (its cluster client is up).
 * Cluster mode is a deployment: it gets the shared TEST_SECRETS unless `env` sets its own.
 */
export async function startApiProcess(env: TestEnv): Promise<ApiProcess> {
  const port = await freePort()
  const proc = runNode('apps/api/dist/main.js', { ...TEST_SECRETS, ...stringEnv(env), PORT: String(port) })
  const url = `http://127.0.0.1:${port}`
  try {
    await waitFor(async () => (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) })).status === 200,
      { timeout: 30_000, interval: 100, what: `api on ${port} ready` })
  } catch (err) {
    await proc.kill('SIGKILL')
    // the output as it is now, at the timeout, not as it was when the wait began
    throw new Error(`${(err as Error).message}; output:\n${proc.output().slice(-2000)}`)
  }
  return { proc, url }
}

/** A real sender process with the recording provider and the deployment's secrets. */
export const startRecordingSender = (env: TestEnv): Promise<RunningProcess> =>
  startSenderProcess({ SENDER_TEST_PROVIDER_MODULE: recordingProviderModule, ...TEST_SECRETS, ...env })

export interface SendResult {
  readonly status: number
  readonly body: Record<string, unknown>
  /** when the request was started, ms since the test's clock origin */
  readonly startedAt: number
  readonly ms: number
  readonly api: number
  readonly mobile: string
}

/**
 * POST /v1/sms-codes from client `ip` (X-Forwarded-For; the APIs trust the loopback proxy).
 * A request cut off by `timeoutMs` reads status 0, so a hang shows up as itself.
 */
export async function postSend(api: ApiProcess, apiIndex: number, mobile: string, ip: string, timeoutMs = 10_000): Promise<SendResult> {
  const started = performance.now()
  try {
    const res = await fetch(`${api.url}/v1/sms-codes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
      body: JSON.stringify({ mobile, purpose: 'register' }),
      signal: AbortSignal.timeout(timeoutMs),
    })
    const body = await res.json() as Record<string, unknown>
    return { status: res.status, body, startedAt: started, ms: performance.now() - started, api: apiIndex, mobile }
  } catch (err) {
    return { status: 0, body: { error: String(err) }, startedAt: started, ms: performance.now() - started, api: apiIndex, mobile }
  }
}

export async function postJson(url: string, body: unknown): Promise<{ status: number, body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(5000) })
  return { status: res.status, body: await res.json() as Record<string, unknown> }
}

export async function getJson(url: string): Promise<{ status: number, body: Record<string, unknown> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) })
  return { status: res.status, body: await res.json() as Record<string, unknown> }
}

export interface Delivery { requestId: string, mobile: string, pid: number, t: number }

export const deliveriesIn = async (recorder: Redis): Promise<Delivery[]> =>
  (await recorder.lrange(TEST_KEYS.deliveries, 0, -1)).map((s) => JSON.parse(s) as Delivery)

/** requestId → how many times the provider accepted it */
export function deliveryCounts(deliveries: readonly Delivery[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const d of deliveries) counts.set(d.requestId, (counts.get(d.requestId) ?? 0) + 1)
  return counts
}

export const deliveredCode = (recorder: Redis, requestId: string): Promise<string | null> => recorder.hget(CODES_KEY, requestId)

/** A fresh client address per call, 10.<prefix>.x.y, so per-IP limits stay out of the way. */
export function ipSource(prefix: number): () => string {
  let n = 0
  return () => { n++; return `10.${prefix}.${(n >> 8) & 255}.${n & 255}` }
}

export const clusterPartitions = (count = 16): Partition[] => allPartitions(count, true)

export interface StreamPlacement {
  partition: number
  /** the port of the master that holds the stream */
  master: number
  /** XINFO STREAM entries-added: every entry ever queued, trimming does not lower it */
  entriesAdded: number
  pending: number
  /** the group has read up to the stream's last entry */
  caughtUp: boolean
}

const clientsOf = new WeakMap<RedisCluster, Map<number, Redis>>()
/** One direct connection per node and cluster, reused across polls (the cluster helper closes them). */
function nodeClient(cluster: RedisCluster, port: number): Redis {
  let clients = clientsOf.get(cluster)
  if (!clients) clientsOf.set(cluster, clients = new Map())
  let c = clients.get(port)
  if (!c) clients.set(port, c = cluster.client(port))
  return c
}

/** Per partition stream: the master that holds it and what that master says about it. */
export async function placement(cluster: RedisCluster, partitions: readonly Partition[]): Promise<StreamPlacement[]> {
  return Promise.all(partitions.map(async (p) => {
    const master = await cluster.masterOf(p.stream)
    const c = nodeClient(cluster, master)
    if (!(await c.exists(p.stream))) return { partition: p.index, master, entriesAdded: 0, pending: 0, caughtUp: true }
    const info = fields(await c.call('XINFO', 'STREAM', p.stream) as unknown[])
    const group = (await c.call('XINFO', 'GROUPS', p.stream) as unknown[][]).map(fields).find((g) => g.name === GROUP)
    return {
      partition: p.index,
      master,
      entriesAdded: Number(info['entries-added'] ?? 0),
      pending: Number(group?.pending ?? 0),
      caughtUp: group !== undefined && group['last-delivered-id'] === info['last-generated-id'],
    }
  }))
}

/** Every partition's group has read everything and acked it. */
export async function drained(cluster: RedisCluster, partitions: readonly Partition[]): Promise<boolean> {
  const all = await placement(cluster, partitions)
  return all.every((s) => s.pending === 0 && (s.entriesAdded === 0 || s.caughtUp))
}

const fields = (raw: unknown[]): Record<string, unknown> => recordOf(raw)

/**
 * SIGKILLs a node the way its host would lose it, remembering how to bring it back: the
 * node's data directory (where its nodes.conf lives) is the redis-server's working directory.
 */
export async function killNode(cluster: RedisCluster, port: number): Promise<() => Promise<void>> {
  const node = cluster.nodes.find((n) => n.port === port)
  const pid = node?.proc?.pid
  if (!node || pid === undefined) throw new Error(`no running cluster node on ${port}`)
  const dir = readlinkSync(`/proc/${pid}/cwd`)
  await cluster.kill(port)
  /** What a supervisor does: start the node again on its nodes.conf; it rejoins as a replica of whoever took its slots. */
  return async () => {
    node.proc = reapOnExit(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
      '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000', '--save', '', '--appendonly', 'no',
      '--repl-diskless-sync-delay', '0', '--dir', dir, '--dbfilename', `dump-${port}.rdb`], { stdio: 'ignore' }))
  }
}


/** INFO <section> of a node over a connection of its own (a node that was down has no live client). */
export async function nodeInfo(port: number, section: string): Promise<string> {
  const c = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 })
  c.on('error', () => undefined)
  try {
    await c.connect()
    return await c.info(section)
  } finally {
    c.disconnect()
  }
}
