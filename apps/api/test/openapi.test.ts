import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Validator } from '@seriousme/openapi-schema-validator'
import { repoRoot } from '@sms-verify/testing'
import { HOST_EXEMPT } from '../src/plugins/host-check.js'
import { makeApp, startTestRedis } from './helpers/app.js'

interface Media { schema?: { properties?: Record<string, unknown> }, example?: unknown, examples?: Record<string, { value: Record<string, unknown> }> }
interface Response { description: string, headers?: Record<string, unknown>, content?: { 'application/json'?: Media } }
interface Operation { operationId?: string, responses: Record<string, Response> }
interface Doc { openapi: string, paths: Record<string, Record<string, Operation>> }

/** The one `error` code an answer of these statuses can carry. */
const ONLY_CODE: Record<string, string> = { 401: 'unauthorized', 413: 'payload_too_large', 415: 'unsupported_media_type', 422: 'idempotency_mismatch' }

const server = await startTestRedis(t)
const { app } = await makeApp(t, server, { ADMIN_TOKEN: 'a'.repeat(32), CALLBACK_TOKEN: 'b'.repeat(32) })
const res = await app.inject({ method: 'GET', url: '/openapi.json' })
const doc = res.json() as Doc
const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })))

t.test('the OpenAPI document is valid and describes exactly the routes the app serves', async (t) => {
  t.equal(res.statusCode, 200)
  const result = await new Validator().validate(doc as never)
  t.ok(result.valid, `valid OpenAPI ${doc.openapi}: ${JSON.stringify(result.errors ?? '').slice(0, 500)}`)

  t.ok(operations.length >= 7, `${operations.length} operations documented`)
  for (const { method, path, op } of operations) {
    t.ok(app.hasRoute({ method, url: path.replace(/\{(\w+)\}/g, ':$1') }), `${method} ${path} is served`)
    t.ok(Object.keys(op.responses).some((s) => s.startsWith('2')), `${method} ${path} declares its success`)
  }
  // every public route is in the document (matched on the whole path); only operational endpoints are left out on purpose
  const documented = new Set(operations.map(({ path }) => path.replace(/\{(\w+)\}/g, ':$1')))
  for (const path of ['/v1/sms-codes', '/v1/sms-codes/verify', '/v1/sms-codes/requests/:requestId', '/v1/sms/notifications', '/sms_codes/:mobile', '/healthz', '/readyz']) {
    t.ok(app.hasRoute({ method: path.startsWith('/v1/sms-codes/requests') || !path.startsWith('/v1') ? 'GET' : 'POST', url: path }), `${path} is served`)
    t.ok(documented.has(path), `${path} is documented`)
  }
  for (const path of ['/metrics', '/docs', '/openapi.json']) t.notOk(documented.has(path), `${path} stays out of the document`)
})

t.test('/openapi.json and /docs/json are one document', async (t) => {
  const ui = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(ui.statusCode, 200)
  t.same(ui.json(), doc)
})

t.test('every documented operation declares what it answers', async (t) => {
  const ids = operations.map(({ op }) => op.operationId)
  t.equal(new Set(ids).size, ids.length, 'operationIds are unique')
  for (const { method, path, op } of operations) {
    const name = `${method} ${path}`
    t.match(op.operationId, /^[a-z][A-Za-z0-9]+$/, `${name} has an operationId`)
    const probe = HOST_EXEMPT.has(path)
    for (const [status, answer] of Object.entries(op.responses)) {
      t.ok(answer.description && answer.description !== 'Default Response', `${name} ${status} is described: ${answer.description}`)
      if (!/^[45]/.test(status)) continue
      const media = answer.content?.['application/json']
      const props = media?.schema?.properties ?? {}
      t.ok('error' in props && 'message' in props, `${name} ${status} has the error shape`)
      const examples = media?.examples ? Object.values(media.examples).map((e) => e.value) : []
      t.ok(examples.length > 0, `${name} ${status} has an example`)
      for (const example of examples) {
        t.ok(typeof example.error === 'string' && typeof example.message === 'string', `${name} ${status} example in the error shape`)
        if (ONLY_CODE[status]) t.equal(example.error, ONLY_CODE[status], `${name} ${status} example is ${ONLY_CODE[status]}`)
        if (status === '429') t.type(example.retryAfter, 'number', `${name} 429 example has retryAfter`)
      }
      t.notMatch(JSON.stringify(examples), /additionalProp/, `${name} ${status} example is not generated filler`)
      if (status === '429' || status === '503') t.ok(answer.headers?.['Retry-After'], `${name} ${status} declares Retry-After`)
      if (status === '401') t.ok(answer.headers?.['WWW-Authenticate'], `${name} 401 declares WWW-Authenticate`)
    }
    if (probe) continue
    const refused = op.responses['400']
    t.ok(refused?.content?.['application/json']?.examples?.invalid_host, `${name} declares 400 invalid_host`)
    t.match(refused?.description ?? '', /invalid_host/, `${name} 400 says invalid_host`)
    t.ok(op.responses['429'], `${name} declares the per-IP limit's 429`)
  }
  t.ok(doc.paths['/v1/sms-codes/requests/{requestId}']?.get?.responses['429'], 'the status route declares its 429')
})

t.test('redocly lint passes (offline, the repository\'s redocly.yaml)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'openapi-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'openapi.json')
  writeFileSync(file, JSON.stringify(doc))
  const env = { PATH: process.env.PATH ?? '', HOME: dir, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' }
  const lint = await promisify(execFile)(process.execPath, [join(repoRoot, 'node_modules/@redocly/cli/bin/cli.js'), 'lint', file, '--config', join(repoRoot, 'redocly.yaml'), '--format', 'stylish'],
    { cwd: dir, env, timeout: 120_000 }).then((r) => ({ code: 0, out: r.stdout + r.stderr }), (e: { code: number, stdout: string, stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }))
  t.equal(lint.code, 0, lint.out.slice(-3000))
  t.notMatch(lint.out, /\berror\b/i, 'no errors')
})
