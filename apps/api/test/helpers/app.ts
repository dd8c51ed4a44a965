import { randomBytes } from 'node:crypto'
import type { Writable } from 'node:stream'
import { configSchema, createRedis, FAIL_FAST, loadConfig, recordOf, type Config } from '@sms-verify/shared'
import { startRedis, testEnv, waitFor, type RedisServer, type TestEnv } from '@sms-verify/testing'
import { buildApp, type App } from '../../src/app.js'
import { createApiLogger } from '../../src/logger.js'

interface Teardown { teardown(fn: () => unknown): void }

const appsOf = new WeakMap<RedisServer, App[]>()

/** A throwaway redis-server; teardown closes the apps built on it first, then stops it. */
export async function startTestRedis(t: Teardown): Promise<RedisServer> {
  const server = await startRedis()
  appsOf.set(server, [])
  t.teardown(async () => {
    await Promise.all((appsOf.get(server) ?? []).map((app) => app.close()))
    await server.stop()
  })
  return server
}

/** The real parser over the shared test environment, on `server`, with a test's overrides. */
export const testConfig = (server: RedisServer, overrides: TestEnv = {}): Config =>
  loadConfig(configSchema, testEnv({ REDIS_URL: server.url, ...overrides }))

export interface TestApp {
  app: App
  config: Config
  pepper: Buffer
}

/** A ready app on its own FAIL_FAST client, closed (with its client) in teardown. */
export async function makeApp(t: Teardown, server: RedisServer, overrides: TestEnv = {},
  deps: { now?: () => number, sealKey?: Buffer, logStream?: Writable } = {}): Promise<TestApp> {
  const config = testConfig(server, overrides)
  const redis = createRedis(config, FAIL_FAST)
  redis.on('error', () => undefined)
  const pepper = randomBytes(32)
  const app = await buildApp(config, {
    redis,
    pepper,
    ...(deps.sealKey ? { sealKey: deps.sealKey } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.logStream ? { logger: createApiLogger('info', deps.logStream) } : {}),
  })
  const apps = appsOf.get(server)
  if (apps) apps.push(app)
  else t.teardown(() => app.close())
  await app.ready()
  // FAIL_FAST refuses commands until the connection is up: wait for it before the first request, or that
  // request meets a 503 and logs a line the test did not cause. Then /readyz, as a load balancer would ask.
  await waitFor(() => redis.status === 'ready', { what: 'the redis client ready' })
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  if (ready.statusCode !== 200) throw new Error(`the app is not ready: /readyz answered ${ready.statusCode}`)
  return { app, config, pepper }
}

let counter = 0
const base = randomBytes(2).readUInt16BE() % 1000
/** A fresh valid CN mobile per call, national form (`139…`). */
export const freshMobile = (): string => `139${String(base).padStart(3, '0')}${String(counter++).padStart(5, '0')}`
export const e164 = (national: string): string => `+86${national}`

export const sendCode = (app: App, body: unknown, headers: Record<string, string> = {}, remoteAddress?: string) =>
  app.inject({ method: 'POST', url: '/v1/sms-codes', payload: body as object, headers, ...(remoteAddress ? { remoteAddress } : {}) })

export const verifyCode = (app: App, body: unknown) =>
  app.inject({ method: 'POST', url: '/v1/sms-codes/verify', payload: body as object })

export const getStatus = async (app: App, requestId: string) => {
  const res = await app.inject({ method: 'GET', url: `/v1/sms-codes/requests/${requestId}` })
  return { statusCode: res.statusCode, body: res.json() as Record<string, unknown> & { status: string, timestamps: Record<string, number> } }
}

/** Sends a code to `count` fresh mobiles (each must be 202) and waits until a sender has sent them all. */
export async function sendUntilSent(t: { equal: (a: unknown, b: unknown) => void }, app: App, count: number) {
  const mobiles = Array.from({ length: count }, () => freshMobile())
  const ids: string[] = []
  for (const mobile of mobiles) {
    const res = await sendCode(app, { mobile, purpose: 'register' })
    t.equal(res.statusCode, 202)
    ids.push((res.json() as { requestId: string }).requestId)
  }
  const sent = await waitFor(async () => {
    const all = await Promise.all(ids.map((id) => getStatus(app, id)))
    return all.every((s) => s.body.status === 'sent') ? all.map((s) => s.body) : undefined
  }, { timeout: 15_000, what: `all ${count} sent` })
  return { mobiles, ids, sent }
}

/** Stream entries as objects. */
export async function streamEntries(server: RedisServer, stream = 'sms:jobs'): Promise<Array<Record<string, string>>> {
  const entries = await server.client().xrange(stream, '-', '+')
  return entries.map(([, fields]) => recordOf<string>(fields))
}

/** The code of a queued request, read from its (unsealed) stream entry, as the sender would. */
export async function codeOf(server: RedisServer, requestId: string, stream = 'sms:jobs'): Promise<string> {
  const job = (await streamEntries(server, stream)).find((e) => e.requestId === requestId)
  if (!job?.code) throw new Error(`no plain code queued for ${requestId}`)
  return job.code
}

/** Another code of the same length that is certainly wrong. */
export const wrongCode = (code: string): string => code.split('').map((d) => String((Number(d) + 1) % 10)).join('')
