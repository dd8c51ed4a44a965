import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { reapOnExit } from './reaper.js'
import { waitFor } from './wait-for.js'

const run = promisify(execFile)

const portIsFree = (port: number) => new Promise<boolean>((resolve) => {
  const s = createServer()
  s.once('error', () => resolve(false))
  s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
})

/** A port whose cluster bus port (port + 10000) is free too. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 20000)
    if (taken.has(port) || taken.has(port + 10000)) continue
    if (await portIsFree(port) && await portIsFree(port + 10000)) {
      taken.add(port).add(port + 10000)
      return port
    }
  }
}

export interface ClusterNodeProcess { readonly port: number, proc: ChildProcess | undefined }

export interface RedisCluster {
  readonly nodes: readonly ClusterNodeProcess[]
  /** `host:port` seeds for REDIS_CLUSTER_NODES */
  readonly seeds: string
  client(port: number): Redis
  /** the ports that are masters right now */
  masters(): Promise<number[]>
  /** the master port serving a key */
  masterOf(key: string): Promise<number>
  kill(port: number): Promise<void>
  waitHealthy(timeout?: number): Promise<void>
  stop(): Promise<void>
}

/**
 * A real Redis Cluster of six `redis-server --cluster-enabled yes` nodes (three
 * masters, three replicas) on free ports, joined with `redis-cli --cluster
 * create`. Node timeout 2000 ms, so a killed master fails over in seconds.
 */
export async function startRedisCluster({ nodeCount = 6, replicas = 1 } = {}): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'sms-cluster-'))
  const taken = new Set<number>()
  const nodes: ClusterNodeProcess[] = []
  const clients: Redis[] = []
  for (let i = 0; i < nodeCount; i++) nodes.push({ port: await clusterPort(taken), proc: undefined })
  for (const node of nodes) {
    node.proc = reapOnExit(spawn('redis-server', ['--port', String(node.port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
      '--cluster-config-file', `nodes-${node.port}.conf`, '--cluster-node-timeout', '2000', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--dbfilename', `dump-${node.port}.rdb`], { stdio: 'ignore' }))
  }
  const client = (port: number) => {
    const c = new Redis({ port, maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: false })
    c.on('error', () => undefined)
    clients.push(c)
    return c
  }
  const info = async (port: number, cmd: string[]) => {
    const c = new Redis({ port, maxRetriesPerRequest: 0, retryStrategy: () => null })
    c.on('error', () => undefined)
    try { return String(await c.call(cmd[0]!, ...cmd.slice(1))) } finally { c.disconnect() }
  }
  for (const node of nodes) await waitFor(async () => (await info(node.port, ['PING'])) === 'PONG', { what: `cluster node ${node.port}` })
  await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'])

  const alive = () => nodes.filter((n) => n.proc && n.proc.exitCode === null && n.proc.signalCode === null)
  // cluster_state:ok comes before the replicas' first sync ends; until then WAIT answers 0, so
  // healthy also means every replica's link to its master is up.
  const waitHealthy = async (timeout = 20_000) => {
    await waitFor(async () => {
      for (const n of alive()) {
        if (!(await info(n.port, ['CLUSTER', 'INFO'])).includes('cluster_state:ok')) return false
        const replication = await info(n.port, ['INFO', 'replication'])
        if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return false
      }
      return true
    }, { timeout, interval: 100, what: 'cluster_state:ok on every node and every replica linked to its master' })
  }
  await waitHealthy()
  const masters = async () => {
    const text = await info(alive()[0]!.port, ['CLUSTER', 'NODES'])
    return text.split('\n').filter((l) => /\bmaster\b/.test(l) && !/\bfail\b/.test(l)).map((l) => Number(l.split(' ')[1]!.split(':')[1]!.split('@')[0]))
  }
  const result: RedisCluster = {
    nodes,
    seeds: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    client,
    masters,
    async masterOf(key) {
      const slot = Number(await info(alive()[0]!.port, ['CLUSTER', 'KEYSLOT', key]))
      const slots = JSON.parse(JSON.stringify(await new Promise((resolve, reject) => {
        const c = new Redis({ port: alive()[0]!.port, maxRetriesPerRequest: 0 })
        c.on('error', () => undefined)
        c.cluster('SLOTS').then(resolve, reject).finally(() => c.disconnect())
      }))) as Array<[number, number, [string, number]]>
      const range = slots.find(([from, to]) => slot >= from && slot <= to)
      if (!range) throw new Error(`no master for slot ${slot}`)
      return range[2][1]
    },
    async kill(port) {
      const node = nodes.find((n) => n.port === port)
      const p = node?.proc
      if (!p || p.exitCode !== null) return
      await new Promise<void>((resolve) => { p.once('exit', () => resolve()); p.kill('SIGKILL') })
    },
    waitHealthy,
    async stop() {
      for (const c of clients.splice(0)) c.disconnect()
      await Promise.all(nodes.map((n) => result.kill(n.port)))
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return result
}
