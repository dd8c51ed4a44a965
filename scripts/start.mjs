// `pnpm start`: read .env, build if needed, make sure Redis answers (starting
// a local redis-server with appendonly when nothing does), check the ports,
// then run one API, one sender and the sign-up page in the foreground until
// Ctrl-C, printing the next steps once all of them answer.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { applyEnvFile } from './start/env-file.mjs'
import { createLogView, logFormat } from './start/log-view.mjs'
import { firstTaken } from './start/ports.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const fromEnvFile = applyEnvFile(join(process.cwd(), '.env'), process.env)
const view = createLogView({ format: logFormat(process.env, process.stdout), color: process.stdout.isTTY === true && !('NO_COLOR' in process.env) })
const say = (line, fields) => view.say(line, { fields })
const die = (line) => {
  view.say(line, { level: 50 })
  process.exit(1)
}

/** Newest mtime of the files under `dir` (0 when it is missing). */
function newest(dir) {
  if (!existsSync(dir)) return 0
  let max = 0
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) max = Math.max(max, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs)
  }
  return max
}

function buildIfNeeded() {
  const packages = [['packages/shared', 'index.js'], ['apps/api', 'main.js'], ['apps/sender', 'main.js'], ['apps/cli', 'main.js']]
  const mtime = (f) => (existsSync(f) ? statSync(f).mtimeMs : 0)
  // tsc -b skips emitting unchanged files but always rewrites its build info, so either counts as built.
  const builtAt = ([dir, main]) => (existsSync(join(root, dir, 'dist', main)) ? Math.max(mtime(join(root, dir, 'dist', main)), mtime(join(root, dir, 'tsconfig.tsbuildinfo'))) : 0)
  const stale = packages.filter((pkg) => builtAt(pkg) < newest(join(root, pkg[0], 'src')))
  if (stale.length === 0) return
  const built = Math.min(...packages.map(builtAt))
  say(built === 0 ? 'no build yet: pnpm build' : 'sources changed: pnpm build')
  const r = spawnSync('pnpm', ['build'], { cwd: root, stdio: 'inherit' })
  if (r.error?.code === 'ENOENT') {
    // pnpm missing (e.g. inside a plain node image): the compiler alone does the same build.
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'apps/api', 'apps/sender', 'apps/cli'], { cwd: root, stdio: 'inherit' })
    if (tsc.status !== 0) die('build failed')
  } else if (r.status !== 0) die('build failed')
}

/** Whether anything at host:port answers a RESP PING (an auth error counts: a Redis is there). */
function redisAnswers(host, port, timeout = 1000) {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (ok) => { socket.destroy(); resolve(ok) }
    socket.setTimeout(timeout, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (d) => done(/^(\+PONG|-NOAUTH|-WRONGPASS|-ERR)/.test(d.toString())))
  })
}

const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0

// ----- children, output prefixed, stopped together -----
const children = []
let stopping = false

function run(name, command, args, env = {}) {
  // Own process group: a terminal's Ctrl-C reaches only us, and we stop the
  // children in order (Redis last, so the sender can ack its in-flight work).
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  child.lines = []
  for (const [from, toErr] of [[child.stdout, false], [child.stderr, true]]) {
    let partial = ''
    from.on('data', (chunk) => {
      const lines = (partial + chunk.toString('utf8')).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) {
        if (line === '') continue
        if (child.lines.length < 200) child.lines.push(line)
        view.child(name, line, toErr)
      }
    })
  }
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)))
  child.once('error', (err) => { view.say(`${name} could not start: ${err.message}`, { level: 50 }); void stop(1) })
  child.once('exit', (code, signal) => {
    if (stopping) return
    const busy = child.lines.some((l) => l.includes('EADDRINUSE'))
    // A port taken between our check and the child's listen: still one line naming the variable.
    view.say(busy && child.portVariable
      ? `${name} could not listen: its port is taken; set ${child.portVariable} to a free port`
      : `${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping the rest`, { level: 50 })
    void stop(typeof code === 'number' && code !== 0 ? code : 1)
  })
  child.label = name
  children.push(child)
  return child
}

const alive = (c) => c.exitCode === null && c.signalCode === null

async function terminate(list, grace) {
  for (const c of list) if (alive(c)) c.kill('SIGTERM')
  const timer = setTimeout(() => { for (const c of list) if (alive(c)) c.kill('SIGKILL') }, grace)
  await Promise.all(list.map((c) => c.exited))
  clearTimeout(timer)
}

async function stop(code) {
  if (stopping) return
  stopping = true
  const grace = Number(process.env.SHUTDOWN_TIMEOUT_MS || 10000) + 2000
  await terminate(children.filter((c) => c.label !== 'redis'), grace)
  await terminate(children.filter((c) => c.label === 'redis'), grace)
  say('stopped')
  // Let a piped stdout drain, so the last lines reach a log collector.
  process.stdout.write('', () => process.exit(code))
}

process.on('SIGINT', () => void stop(0))
process.on('SIGTERM', () => void stop(0))
// Last resort if we are killed hard between spawning and stopping.
process.on('exit', () => { for (const c of children) if (alive(c)) c.kill('SIGKILL') })

// ----- main -----
if (fromEnvFile.length > 0) say(`read ${fromEnvFile.length} setting${fromEnvFile.length === 1 ? '' : 's'} from .env`, { variables: fromEnvFile })
buildIfNeeded()
const { loadServiceConfig, clusterMode } = await import('../packages/shared/dist/index.js')
let config
try {
  // the API's and the sender's own check, deployment rules included: refused here in one line, before anything starts
  config = loadServiceConfig(process.env)
} catch (err) {
  die(err.message)
}

const webHost = process.env.WEB_HOST || '127.0.0.1'
const webPort = Number(process.env.WEB_PORT || 8080)
const metricsHost = config.METRICS_HOST ?? config.HOST
const ports = [['PORT', config.HOST, config.PORT], ['WEB_PORT', webHost, webPort], ['METRICS_PORT', metricsHost, config.METRICS_PORT]]
if (config.API_METRICS_PORT !== undefined) ports.push(['API_METRICS_PORT', metricsHost, config.API_METRICS_PORT])
const taken = await firstTaken(ports)
if (taken) die(`port ${taken.port} on ${taken.host} is taken: set ${taken.variable} to a free port (e.g. ${taken.variable}=${taken.port + 1} pnpm start)`)

if (clusterMode(config)) {
  say(`Redis Cluster mode: ${config.REDIS_CLUSTER_NODES.join(',')}`)
} else {
  const url = new URL(config.REDIS_URL)
  const host = url.hostname || '127.0.0.1'
  const port = Number(url.port || 6379)
  if (await redisAnswers(host, port)) {
    say(`Redis answers at ${host}:${port}`)
  } else if (url.protocol !== 'redis:' || !['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) {
    die(`nothing answers at ${config.REDIS_URL.replace(/\/\/[^@/]*@/, '//***@')}, and it is not local, so no redis-server is started`)
  } else if (!onPath('redis-server')) {
    die(`nothing answers at ${host}:${port} and redis-server is not on PATH: install Redis (apt-get install redis-server) or set REDIS_URL`)
  } else {
    const dir = join(root, '.data/redis')
    mkdirSync(dir, { recursive: true })
    say(`nothing answers at ${host}:${port}: starting redis-server (data in .data/redis, appendonly yes)`)
    run('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes'])
    const deadline = Date.now() + 10_000
    while (!(await redisAnswers(host, port, 300))) {
      if (stopping) await new Promise(() => {})
      if (Date.now() > deadline) {
        say('redis-server did not answer within 10 s')
        await stop(1)
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

/** How a browser or curl on this machine reaches a listener bound to `host`. */
const reach = (host, port) => `http://${['0.0.0.0', '::', ''].includes(host) ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host}:${port}`
const apiUrl = reach(config.HOST, config.PORT)
const pageUrl = reach(webHost, webPort)
const metricsUrl = reach(metricsHost, config.METRICS_PORT)

// The page's origin must be allowed, also on another WEB_PORT; an explicit CORS_ORIGINS wins.
const pageOrigins = process.env.CORS_ORIGINS ? {} : { CORS_ORIGINS: [...new Set([pageUrl, `http://127.0.0.1:${webPort}`, `http://localhost:${webPort}`])].join(',') }
const api = run('api', process.execPath, ['apps/api/dist/main.js'], pageOrigins)
const sender = run('sender', process.execPath, ['apps/sender/dist/main.js'])
const web = run('web', process.execPath, ['apps/web/serve.mjs'], { WEB_PORT: String(webPort), WEB_HOST: webHost, WEB_API_URL: process.env.WEB_API_URL || apiUrl })
api.portVariable = 'PORT'
sender.portVariable = 'METRICS_PORT'
web.portVariable = 'WEB_PORT'

const answers = async (url) => {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) })
    await res.body?.cancel()
    return res.ok
  } catch { return false }
}
// Ready means answering, not spawned: the API sees Redis, the sender has made its consumer group, the page serves.
const checks = [
  () => answers(`${apiUrl}/readyz`),
  async () => sender.lines.some((l) => l.includes('"sender started"')) && answers(`${metricsUrl}/healthz`),
  () => answers(`${pageUrl}/`),
]
const readyBy = Date.now() + 60_000
while (!stopping && !(await Promise.all(checks.map((check) => check()))).every(Boolean)) {
  if (Date.now() > readyBy) {
    view.say('not every part answered within 60 s; stopping', { level: 50 })
    await stop(1)
  }
  await new Promise((r) => setTimeout(r, 200))
}
if (!stopping) {
  const body = JSON.stringify({ mobile: '13812345678', purpose: 'register' })
  view.ready({
    api: apiUrl,
    page: pageUrl,
    metrics: `${metricsUrl}/metrics`,
    curl: `curl -s -XPOST ${apiUrl}/v1/sms-codes -H 'content-type: application/json' -d '${body}'`,
  })
}
