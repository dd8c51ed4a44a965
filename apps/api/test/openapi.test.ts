import t from 'tap'
import { Validator } from '@seriousme/openapi-schema-validator'
import { makeApp, startTestRedis } from './helpers/app.js'

interface Operation { responses: Record<string, { content?: { 'application/json'?: { schema?: { properties?: Record<string, unknown> } } } }> }

t.test('the OpenAPI document is valid and describes exactly the routes the app serves', async (t) => {
  const server = await startTestRedis(t)
  const { app } = await makeApp(t, server, { ADMIN_TOKEN: 'a'.repeat(32), CALLBACK_TOKEN: 'b'.repeat(32) })
  const res = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(res.statusCode, 200)
  const doc = res.json() as { openapi: string, paths: Record<string, Record<string, Operation>> }

  const result = await new Validator().validate(doc as never)
  t.ok(result.valid, `valid OpenAPI ${doc.openapi}: ${JSON.stringify(result.errors ?? '').slice(0, 500)}`)

  const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => [method.toUpperCase(), path] as const))
  t.ok(documented.length >= 8, `${documented.length} operations documented`)
  for (const [method, path] of documented) {
    const url = path.replace(/\{(\w+)\}/g, ':$1')
    t.ok(app.hasRoute({ method, url }), `${method} ${path} is served`)
    const { responses } = doc.paths[path]![method.toLowerCase()]!
    const statuses = Object.keys(responses)
    t.ok(statuses.some((s) => s.startsWith('2')), `${method} ${path} declares its success`)
    for (const status of statuses.filter((s) => /^[45]/.test(s))) {
      const props = responses[status]!.content?.['application/json']?.schema?.properties ?? {}
      t.ok('error' in props || 'message' in props, `${method} ${path} ${status} has the error shape`)
    }
  }

  // every public route is in the document; only operational endpoints are left out on purpose
  const undocumented = new Set(['/metrics', '/docs', '/openapi.json'])
  const served = app.printRoutes({ commonPrefix: false })
  for (const path of ['/v1/sms-codes', '/v1/sms-codes/verify', '/v1/sms-codes/requests/:requestId', '/v1/sms/notifications', '/sms_codes/:mobile', '/healthz', '/readyz']) {
    t.ok(served.includes(path.split('/').pop()!), `${path} is served`)
    t.ok(documented.some(([, p]) => p.replace(/\{(\w+)\}/g, ':$1') === path), `${path} is documented`)
  }
  for (const path of undocumented) t.notOk(documented.some(([, p]) => p === path), `${path} stays out of the document`)
})
