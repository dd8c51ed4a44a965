// `pnpm start`: build if needed, make sure Redis answers (starting a local
// redis-server with appendonly when nothing does), then run one API, one
// sender and the sign-up page in the foreground until Ctrl-C.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const say = (line) => process.stdout.write(`start  | ${line}\n`)
const die = (line) => {
  process.stderr.write(`start  | ${line}\n`)
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
  const prefix = `${name.padEnd(6)} | `
  for (const [from, to] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
    let partial = ''
    from.on('data', (chunk) => {
      const lines = (partial + chunk.toString('utf8')).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) to.write(prefix + line + '\n')
    })
  }
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)))
  child.once('error', (err) => { say(`${name} could not start: ${err.message}`); void stop(1) })
  child.once('exit', (code, signal) => {
    if (stopping) return
    say(`${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping the rest`)
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
  process.exit(code)
}

process.on('SIGINT', () => void stop(0))
process.on('SIGTERM', () => void stop(0))
// Last resort if we are killed hard between spawning and stopping.
process.on('exit', () => { for (const c of children) if (alive(c)) c.kill('SIGKILL') })

// ----- main -----
buildIfNeeded()
const { configSchema, loadConfig, clusterMode } = await import('../packages/shared/dist/index.js')
let config
try {
  config = loadConfig(configSchema, process.env)
} catch (err) {
  die(err.message)
}

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

run('api', process.execPath, ['apps/api/dist/main.js'])
run('sender', process.execPath, ['apps/sender/dist/main.js'])
run('web', process.execPath, ['apps/web/serve.mjs'], { WEB_PORT: process.env.WEB_PORT ?? '8080', WEB_HOST: process.env.WEB_HOST ?? '127.0.0.1', WEB_API_URL: `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${config.PORT}` })
say(`API on http://${config.HOST}:${config.PORT}, sign-up page on http://${process.env.WEB_HOST ?? '127.0.0.1'}:${process.env.WEB_PORT ?? '8080'}; Ctrl-C stops everything`)
