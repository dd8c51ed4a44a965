import t from 'tap'
import type { InjectOptions } from 'fastify'
import { NO_STORE_ROUTES } from '../src/plugins/security-headers.js'
import { freshMobile, makeApp, startTestRedis } from './helpers/app.js'

const server = await startTestRedis(t)
const { app } = await makeApp(t, server, { RATE_LIMIT_PER_MINUTE: '100000' })
const ORIGIN = 'http://localhost:8080'

type Req = InjectOptions

t.test('every answer carries X-Content-Type-Options: nosniff', async (t) => {
  const requests: Array<[string, Req]> = [
    ['health', { method: 'GET', url: '/healthz' }],
    ['metrics', { method: 'GET', url: '/metrics' }],
    ['docs', { method: 'GET', url: '/docs' }],
    ['openapi', { method: 'GET', url: '/openapi.json' }],
    ['root', { method: 'GET', url: '/' }],
    ['a send', { method: 'POST', url: '/v1/sms-codes', payload: { mobile: freshMobile(), purpose: 'login' } }],
    ['a bad mobile', { method: 'POST', url: '/v1/sms-codes', payload: { mobile: 'x', purpose: 'login' } }],
    ['an unknown route', { method: 'GET', url: '/nowhere' }],
    ['a wrong method', { method: 'GET', url: '/v1/sms-codes' }],
    ['a wrong host', { method: 'GET', url: '/v1/sms-codes/requests/0-AAAAAAAAAAAAAAAA', headers: { host: 'evil.example' } }],
    ['a body too large', { method: 'POST', url: '/v1/sms-codes/verify', payload: { pad: 'x'.repeat(64 * 1024) } }],
    ['a body not JSON', { method: 'POST', url: '/v1/sms-codes/verify', payload: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }],
    ['a preflight', { method: 'OPTIONS', url: '/v1/sms-codes', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } }],
    ['a bad preflight', { method: 'OPTIONS', url: '/v1/sms-codes' }],
  ]
  for (const [what, req] of requests) {
    const res = await app.inject(req)
    t.equal(res.headers['x-content-type-options'], 'nosniff', `${what} (${res.statusCode})`)
  }
})

t.test('send, verify and status answers carry Cache-Control: no-store, errors included', async (t) => {
  const mobile = freshMobile()
  const sent = await app.inject({ method: 'POST', url: '/v1/sms-codes', payload: { mobile, purpose: 'login' } })
  t.equal(sent.statusCode, 202)
  const requests: Array<[string, Req]> = [
    ['a send', { method: 'POST', url: '/v1/sms-codes', payload: { mobile: freshMobile(), purpose: 'login' } }],
    ['a refused send', { method: 'POST', url: '/v1/sms-codes', payload: { mobile, purpose: 'login' } }],
    ['a malformed send', { method: 'POST', url: '/v1/sms-codes', payload: { mobile: 1, purpose: 'login' } }],
    ['a verify', { method: 'POST', url: '/v1/sms-codes/verify', payload: { mobile, purpose: 'register', code: '123456' } }],
    ['a malformed verify', { method: 'POST', url: '/v1/sms-codes/verify', payload: { mobile, purpose: 'login', code: 'abc' } }],
    ['a status', { method: 'GET', url: `/v1/sms-codes/requests/${sent.json().requestId as string}` }],
    ['an unknown status', { method: 'GET', url: '/v1/sms-codes/requests/0-AAAAAAAAAAAAAAAA' }],
    ['a legacy send', { method: 'GET', url: `/sms_codes/${freshMobile()}/` }],
    ['a legacy refusal', { method: 'GET', url: '/sms_codes/123/' }],
    ['a send for a wrong host', { method: 'POST', url: '/v1/sms-codes', payload: { mobile: freshMobile(), purpose: 'login' }, headers: { host: 'evil.example' } }],
  ]
  for (const [what, req] of requests) {
    const res = await app.inject(req)
    t.equal(res.headers['cache-control'], 'no-store', `${what} (${res.statusCode})`)
  }
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).headers['cache-control'], undefined, 'other routes are left to caches')
  for (const url of NO_STORE_ROUTES) {
    t.ok(app.hasRoute({ url, method: 'GET' }) || app.hasRoute({ url, method: 'POST' }), `${url} is a route`)
  }
})

t.test('a wrong method on an existing route is 405 with Allow, not 404', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['GET', '/v1/sms-codes', 'POST, OPTIONS'],
    ['PUT', '/v1/sms-codes/verify', 'POST, OPTIONS'],
    ['DELETE', '/v1/sms-codes/requests/0-AAAAAAAAAAAAAAAA', 'GET, HEAD, OPTIONS'],
    ['POST', '/healthz', 'GET, HEAD, OPTIONS'],
    ['POST', '/sms_codes/13812345678/', 'GET, HEAD, OPTIONS'],
    ['PATCH', '/nowhere', 'GET, HEAD, POST, OPTIONS'],
  ]
  for (const [method, url, allow] of cases) {
    const res = await app.inject({ method: method as 'GET', url, headers: { origin: ORIGIN } })
    t.equal(res.statusCode, 405, `${method} ${url}`)
    t.equal(res.headers.allow, allow, `${method} ${url}: Allow`)
    t.match(res.json(), { error: 'method_not_allowed', message: new RegExp(allow) }, `${method} ${url}: body`)
    t.equal(res.headers['access-control-allow-origin'], ORIGIN, `${method} ${url}: CORS`)
  }
  const missing = await app.inject({ method: 'GET', url: '/v1/nothing' })
  t.equal(missing.statusCode, 404, 'a method we serve on a path we do not is still 404')
  t.same(missing.json(), { error: 'not_found', message: 'no such route' })
})

t.test('GET / points to the docs', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/' })
  t.equal(res.statusCode, 200)
  const body = res.json() as { docs: string, openapi: string }
  t.equal(body.docs, '/docs')
  t.ok((await app.inject({ method: 'GET', url: body.docs })).statusCode < 400, 'the docs link answers')
  t.equal((await app.inject({ method: 'GET', url: body.openapi })).json().openapi.slice(0, 2), '3.', 'the openapi link answers')
})

t.test('415 says to send content-type: application/json', async (t) => {
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
    const res = await app.inject({ method: 'POST', url: '/v1/sms-codes', payload: 'mobile=13812345678', headers: { 'content-type': type } })
    t.equal(res.statusCode, 415, type)
    t.match(res.json(), { error: 'unsupported_media_type', message: /content-type: application\/json/ }, type)
    t.notMatch(res.json().message, type, `${type} is not echoed`)
  }
})

t.test('validation errors name the field and what it takes; codes stay as they were', async (t) => {
  const send = (payload: unknown) => app.inject({ method: 'POST', url: '/v1/sms-codes', payload: payload as object })
  const verify = (payload: unknown) => app.inject({ method: 'POST', url: '/v1/sms-codes/verify', payload: payload as object })
  const json = (payload: string) => app.inject({ method: 'POST', url: '/v1/sms-codes', payload, headers: { 'content-type': 'application/json' } })
  const cases: Array<[string, Promise<{ statusCode: number, json(): unknown }>, string, RegExp]> = [
    ['mobile as a number', send({ mobile: 13812345678, purpose: 'login' }), 'invalid_mobile', /^mobile must be a string .*, not a number$/],
    ['mobile as null', send({ mobile: null, purpose: 'login' }), 'invalid_mobile', /^mobile must be a string .*, not null$/],
    ['a malformed mobile', send({ mobile: '12', purpose: 'login' }), 'invalid_mobile', /^mobile is not a valid mobile number$/],
    ['purpose as a number', send({ mobile: '13812345678', purpose: 1 }), 'invalid_purpose', /^purpose must be one of "register", "login", "reset_password", not a number$/],
    ['an unknown purpose', send({ mobile: '13812345678', purpose: 'admin' }), 'invalid_purpose', /register, login, reset_password/],
    ['code as a number', verify({ mobile: '13812345678', purpose: 'login', code: 123456 }), 'invalid_code', /^code must be a string of 4 to 10 digits .*, not a number$/],
    ['an extra field', send({ mobile: '13812345678', purpose: 'login', admin: true }), 'invalid_body', /unknown field "admin"; this route takes mobile, purpose/],
    ['an extra field with an odd name', send({ mobile: '13812345678', purpose: 'login', '<b>x</b>': 1 }), 'invalid_body', /unknown field a field/],
    ['a missing field', send({ mobile: '13812345678' }), 'invalid_body', /purpose is required/],
    ['an array body', json('[]'), 'invalid_body', /the body must be a JSON object, not an array/],
    ['broken JSON', json('{"mobile": "1381234SECRET'), 'invalid_body', /the body is not valid JSON/],
    ['a poisoned prototype', json('{"__proto__":{"x":1},"mobile":"13812345678","purpose":"login"}'), 'invalid_body', /__proto__/],
  ]
  for (const [what, pending, error, message] of cases) {
    const res = await pending
    t.equal(res.statusCode, 400, `${what}: status`)
    t.match(res.json(), { error, message }, what)
    t.notMatch(JSON.stringify(res.json()), /SECRET|<b>/, `${what}: the input is not echoed`)
  }
})

t.test('a plugin\'s own text refusal is put in the shape (the CORS strict preflight)', async (t) => {
  const res = await app.inject({ method: 'OPTIONS', url: '/v1/sms-codes', headers: { origin: ORIGIN } })
  t.equal(res.statusCode, 400)
  t.match(res.headers['content-type'], /^application\/json/)
  t.match(res.json(), { error: 'bad_request', message: String })
})
