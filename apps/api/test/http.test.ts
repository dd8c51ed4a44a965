import t from 'tap'
import Fastify from 'fastify'
import cors from '@fastify/cors'
import { EXPOSED_HEADERS } from '../src/edge/limits.js'
import { codeOf, freshMobile, makeApp, startTestRedis, wrongCode } from './helpers/app.js'

const server = await startTestRedis(t)
const { app } = await makeApp(t, server)
const ALLOWED = 'http://localhost:8080'

t.test('CORS preflight: allowed origin gets the headers, a refused one does not', async (t) => {
  const ok = await app.inject({ method: 'OPTIONS', url: '/v1/sms-codes', headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,idempotency-key' } })
  t.equal(ok.statusCode, 204)
  t.equal(ok.headers['access-control-allow-origin'], ALLOWED)
  t.equal(ok.headers['access-control-allow-credentials'], 'true')
  t.match(String(ok.headers['access-control-allow-methods']), /POST/)
  const refused = await app.inject({ method: 'OPTIONS', url: '/v1/sms-codes', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } })
  t.notOk(refused.headers['access-control-allow-origin'])
})

t.test('CORS on requests that are not preflights: what @fastify/cors itself would add', async (t) => {
  const CORS = ['vary', 'access-control-allow-origin', 'access-control-allow-credentials', 'access-control-expose-headers']
  const pick = (headers: Record<string, unknown>) => Object.fromEntries(CORS.map((name) => [name, headers[name]]))
  for (const origins of ['http://127.0.0.1:8080,http://localhost:8080', '*']) {
    const { app: ours } = await makeApp(t, server, { CORS_ORIGINS: origins })
    const plain = Fastify()
    await plain.register(cors, { origin: origins.split(','), credentials: true, exposedHeaders: [...EXPOSED_HEADERS] })
    plain.route({ method: ['GET', 'POST', 'DELETE'], url: '/*', handler: async () => ({}) })
    t.teardown(() => plain.close())
    for (const origin of [ALLOWED, 'http://127.0.0.1:8080', 'https://evil.example', undefined]) {
      for (const [method, url] of [['GET', '/healthz'], ['POST', '/v1/sms-codes'], ['GET', '/nowhere'], ['DELETE', '/v1/sms-codes']] as const) {
        const headers = origin === undefined ? {} : { origin }
        const expected = pick((await plain.inject({ method, url, headers })).headers)
        t.same(pick((await ours.inject({ method, url, headers })).headers), expected, `${origins}: ${method} ${url} from ${origin ?? 'no origin'}`)
      }
    }
  }
})

t.test('CORS headers on error answers and 404s', async (t) => {
  for (const req of [
    { method: 'POST' as const, url: '/v1/sms-codes', payload: { mobile: 'bad', purpose: 'register' } },
    { method: 'GET' as const, url: '/nowhere' },
    { method: 'GET' as const, url: '/v1/sms-codes/requests/0-AAAAAAAAAAAAAAAA' },
  ]) {
    const res = await app.inject({ ...req, headers: { origin: ALLOWED } })
    t.ok(res.statusCode >= 400, `${req.url} is an error`)
    t.equal(res.headers['access-control-allow-origin'], ALLOWED, req.url)
    t.equal(res.headers['access-control-allow-credentials'], 'true')
    t.match(String(res.headers['access-control-expose-headers']), /Retry-After/, 'a page may read Retry-After')
    t.type(res.json().error, 'string')
  }
  const wrongHost = await app.inject({ method: 'GET', url: '/v1/sms-codes/requests/0-AAAAAAAAAAAAAAAA', headers: { origin: ALLOWED, host: 'evil.example' } })
  t.equal(wrongHost.statusCode, 400)
  t.equal(wrongHost.headers['access-control-allow-origin'], ALLOWED, 'even the host refusal')
})

t.test('Host check: listed names with any port pass, others are 400 invalid_host, probes are exempt', async (t) => {
  const body = { mobile: freshMobile(), purpose: 'register' }
  for (const host of ['localhost', 'localhost:8000', '127.0.0.1:9999', 'LOCALHOST']) {
    const res = await app.inject({ method: 'GET', url: '/healthz', headers: { host } })
    t.equal(res.statusCode, 200, host)
  }
  t.equal((await app.inject({ method: 'POST', url: '/v1/sms-codes', payload: body, headers: { host: '127.0.0.1:8000' } })).statusCode, 202)
  for (const host of ['evil.example', 'localhost.evil.example', 'evil.example:8000', '10.0.0.1']) {
    const res = await app.inject({ method: 'POST', url: '/v1/sms-codes', payload: { mobile: freshMobile(), purpose: 'register' }, headers: { host } })
    t.equal(res.statusCode, 400, host)
    t.same(res.json(), { error: 'invalid_host', message: 'the Host header is not an allowed host' })
  }
  for (const url of ['/healthz', '/readyz', '/metrics']) {
    t.equal((await app.inject({ method: 'GET', url, headers: { host: '10.0.0.7:8000' } })).statusCode, 200, `${url} exempt`)
  }
  const server2 = await startTestRedis(t)
  const { app: any } = await makeApp(t, server2, { ALLOWED_HOSTS: '*' })
  t.equal((await any.inject({ method: 'GET', url: '/v1/sms-codes/requests/0-AAAAAAAAAAAAAAAA', headers: { host: 'whatever.example' } })).statusCode, 404, '* accepts any host')
})

t.test('malformed bodies, mobiles and content types: each a 4xx JSON {error, message}', async (t) => {
  const json = (payload: string) => ({ payload, headers: { 'content-type': 'application/json' } })
  const cases: Array<[string, { payload?: string | object, headers?: Record<string, string> }, number, string]> = [
    ['empty object', { payload: {} }, 400, 'invalid_body'],
    ['missing purpose', { payload: { mobile: '13812345678' } }, 400, 'invalid_body'],
    ['missing mobile', { payload: { purpose: 'register' } }, 400, 'invalid_body'],
    ['mobile as number', { payload: { mobile: 13812345678, purpose: 'register' } }, 400, 'invalid_mobile'],
    ['mobile null', { payload: { mobile: null, purpose: 'register' } }, 400, 'invalid_mobile'],
    ['mobile array', { payload: { mobile: ['13812345678'], purpose: 'register' } }, 400, 'invalid_mobile'],
    ['mobile object', { payload: { mobile: { n: 1 }, purpose: 'register' } }, 400, 'invalid_mobile'],
    ['mobile empty', { payload: { mobile: '', purpose: 'register' } }, 400, 'invalid_mobile'],
    ['mobile too short', { payload: { mobile: '1381234567', purpose: 'register' } }, 400, 'invalid_mobile'],
    ['mobile too long', { payload: { mobile: '138123456789', purpose: 'register' } }, 400, 'invalid_mobile'],
    ['mobile starts 12', { payload: { mobile: '12812345678', purpose: 'register' } }, 400, 'invalid_mobile'],
    ['mobile starts 10', { payload: { mobile: '10812345678', purpose: 'register' } }, 400, 'invalid_mobile'],
    ['mobile letters', { payload: { mobile: '1381234567a', purpose: 'register' } }, 400, 'invalid_mobile'],
    ['mobile landline', { payload: { mobile: '+861012345678', purpose: 'register' } }, 400, 'invalid_mobile'],
    ['mobile 40 digits', { payload: { mobile: '1'.repeat(40), purpose: 'register' } }, 400, 'invalid_mobile'],
    ['mobile emoji', { payload: { mobile: '138📱12345678', purpose: 'register' } }, 400, 'invalid_mobile'],
    ['mobile sql', { payload: { mobile: "1' OR '1'='1", purpose: 'register' } }, 400, 'invalid_mobile'],
    ['mobile plus only', { payload: { mobile: '+', purpose: 'register' } }, 400, 'invalid_mobile'],
    ['mobile whitespace', { payload: { mobile: '   ', purpose: 'register' } }, 400, 'invalid_mobile'],
    ['mobile unicode digits', { payload: { mobile: '١٣٨١٢٣٤٥٦٧٨', purpose: 'register' } }, 400, 'invalid_mobile'],
    ['purpose unknown', { payload: { mobile: '13812345678', purpose: 'admin' } }, 400, 'invalid_purpose'],
    ['purpose case', { payload: { mobile: '13812345678', purpose: 'REGISTER' } }, 400, 'invalid_purpose'],
    ['purpose number', { payload: { mobile: '13812345678', purpose: 1 } }, 400, 'invalid_purpose'],
    ['purpose empty', { payload: { mobile: '13812345678', purpose: '' } }, 400, 'invalid_purpose'],
    ['extra property', { payload: { mobile: '13812345678', purpose: 'register', admin: true } }, 400, 'invalid_body'],
    ['body is array', json('[]'), 400, 'invalid_body'],
    ['body is string', json('"13812345678"'), 400, 'invalid_body'],
    ['body is null', json('null'), 400, 'invalid_body'],
    ['body is number', json('42'), 400, 'invalid_body'],
    ['broken JSON', json('{"mobile": '), 400, 'invalid_body'],
    ['trailing garbage', json('{"mobile":"13812345678","purpose":"register"}x'), 400, 'invalid_body'],
    ['empty JSON body', json(''), 400, 'invalid_body'],
    ['text/plain', { payload: 'mobile=13812345678', headers: { 'content-type': 'text/plain' } }, 415, 'unsupported_media_type'],
    ['form encoded', { payload: 'mobile=13812345678&purpose=register', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'unsupported_media_type'],
    ['xml', { payload: '<a/>', headers: { 'content-type': 'application/xml' } }, 415, 'unsupported_media_type'],
    ['proto pollution', json('{"__proto__":{"x":1},"mobile":"13812345678","purpose":"register"}'), 400, 'invalid_body'],
  ]
  t.ok(cases.length >= 30)
  for (const [name, req, status, error] of cases) {
    const res = await app.inject({ method: 'POST', url: '/v1/sms-codes', ...req })
    t.equal(res.statusCode, status, `${name}: status`)
    t.match(res.headers['content-type'], /application\/json/, `${name}: JSON`)
    const body = res.json()
    t.equal(body.error, error, `${name}: error`)
    t.type(body.message, 'string', `${name}: message`)
  }
})

t.test('413 payload_too_large', async (t) => {
  const res = await app.inject({ method: 'POST', url: '/v1/sms-codes', payload: { mobile: '13812345678', purpose: 'register', pad: 'x'.repeat(64 * 1024) } })
  t.equal(res.statusCode, 413)
  t.equal(res.json().error, 'payload_too_large')
})

t.test('unknown routes and methods', async (t) => {
  const res = await app.inject({ method: 'GET', url: '/v2/nothing' })
  t.equal(res.statusCode, 404)
  t.same(res.json(), { error: 'not_found', message: 'no such route' })
  const status = await app.inject({ method: 'GET', url: '/v1/sms-codes/requests/not-an-id' })
  t.equal(status.statusCode, 404)
  t.equal(status.json().error, 'not_found')
  t.equal((await app.inject({ method: 'GET', url: '/v1/sms-codes/requests/9-AAAAAAAAAAAAAAAA' })).statusCode, 404, 'a partition that does not exist')
})

t.test('health, readiness, metrics, OpenAPI', async (t) => {
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
  const metrics = await app.inject({ method: 'GET', url: '/metrics' })
  t.match(metrics.headers['content-type'], /text\/plain/)
  t.match(metrics.body, /process_cpu_user_seconds_total/)
  t.match(metrics.body, /sms_api_requests_total\{method="GET",route="\/healthz",status="200"\}/)
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
  t.match(doc.openapi, /^3\./)
  for (const [path, method] of [
    ['/v1/sms-codes', 'post'], ['/v1/sms-codes/verify', 'post'], ['/v1/sms-codes/requests/{requestId}', 'get'],
    ['/v1/sms/notifications', 'post'], ['/sms_codes/{mobile}', 'get'],
    ['/healthz', 'get'], ['/readyz', 'get'],
  ] as const) {
    t.ok(doc.paths[path]?.[method], `${method} ${path} documented`)
  }
  // Both slash forms are served (see legacy.test.ts); the document lists the operation once.
  t.notOk(doc.paths['/sms_codes/{mobile}/'], 'the legacy route is documented once, not once per slash form')
  const send = doc.paths['/v1/sms-codes'].post
  for (const status of ['202', '400', '413', '422', '429', '503']) t.ok(send.responses[status], `send declares ${status}`)
  t.ok(send.requestBody.content['application/json'].schema.properties.mobile)
  t.equal((await app.inject({ method: 'GET', url: '/docs' })).statusCode < 400, true, '/docs answers')
})

t.test('general per-IP rate limit answers 429 rate_limited with Retry-After', async (t) => {
  const server2 = await startTestRedis(t)
  const { app } = await makeApp(t, server2, { RATE_LIMIT_PER_MINUTE: '3' })
  const statuses = []
  let last
  for (let i = 0; i < 4; i++) {
    last = await app.inject({ method: 'GET', url: '/v1/sms-codes/requests/0-AAAAAAAAAAAAAAAA', remoteAddress: '198.51.100.1' })
    statuses.push(last.statusCode)
  }
  t.same(statuses, [404, 404, 404, 429])
  t.equal(last!.json().error, 'rate_limited')
  t.ok(last!.json().retryAfter >= 1 && last!.json().retryAfter <= 60)
  t.equal(last!.headers['retry-after'], String(last!.json().retryAfter))
  t.ok(await server2.client().exists('sms:ratelimit:198.51.100.1'), 'counted in Redis under the shared name')
  t.equal((await app.inject({ method: 'GET', url: '/healthz', remoteAddress: '198.51.100.1' })).statusCode, 200, 'probes are not limited')
})

t.test('the send routes count against the same per-IP limit inside their script', async (t) => {
  const server2 = await startTestRedis(t)
  const { app } = await makeApp(t, server2, { RATE_LIMIT_PER_MINUTE: '3' })
  const ip = '198.51.100.7'
  t.equal((await app.inject({ method: 'GET', url: '/v1/sms-codes/requests/0-AAAAAAAAAAAAAAAA', remoteAddress: ip })).statusCode, 404)
  t.equal((await app.inject({ method: 'POST', url: '/v1/sms-codes', payload: { mobile: freshMobile(), purpose: 'register' }, remoteAddress: ip })).statusCode, 202)
  t.equal((await app.inject({ method: 'GET', url: `/sms_codes/${freshMobile()}/`, remoteAddress: ip })).statusCode, 200)
  const limited = await app.inject({ method: 'POST', url: '/v1/sms-codes', payload: { mobile: freshMobile(), purpose: 'register' }, remoteAddress: ip })
  t.equal(limited.statusCode, 429, 'the fourth request of the minute, whichever route')
  t.equal(limited.json().error, 'rate_limited')
  t.ok(limited.json().retryAfter >= 1 && limited.json().retryAfter <= 60)
  t.equal(limited.headers['retry-after'], String(limited.json().retryAfter))
  t.equal((await app.inject({ method: 'GET', url: '/v1/sms-codes/requests/0-AAAAAAAAAAAAAAAA', remoteAddress: ip })).statusCode, 429, 'and the plugin sees the send routes\' count')
  t.equal(await server2.client().xlen('sms:jobs'), 2, 'the limited send queued nothing')
})

t.test('the verify route counts against the same per-IP limit inside its script, and a refused verify spends no try', async (t) => {
  const server2 = await startTestRedis(t)
  const { app } = await makeApp(t, server2, { RATE_LIMIT_PER_MINUTE: '3', VERIFY_MAX_ATTEMPTS: '2' })
  const ip = '198.51.100.8'
  const mobile = freshMobile()
  const sent = await app.inject({ method: 'POST', url: '/v1/sms-codes', payload: { mobile, purpose: 'register' }, remoteAddress: ip })
  const code = await codeOf(server2, sent.json().requestId)
  const verify = (c: string) => app.inject({ method: 'POST', url: '/v1/sms-codes/verify', payload: { mobile, purpose: 'register', code: c }, remoteAddress: ip })
  t.equal((await verify(wrongCode(code))).json().attemptsLeft, 1, 'the second request of the minute is checked')
  t.equal((await app.inject({ method: 'GET', url: '/v1/sms-codes/requests/0-AAAAAAAAAAAAAAAA', remoteAddress: ip })).statusCode, 404)
  const limited = await verify(wrongCode(code))
  t.equal(limited.statusCode, 429, 'the fourth request of the minute, whichever route')
  t.equal(limited.json().error, 'rate_limited')
  t.equal(limited.headers['retry-after'], String(limited.json().retryAfter))
  t.equal(await server2.client().get('sms:ratelimit:198.51.100.8'), '4', 'counted under the shared name')
  const right = await app.inject({ method: 'POST', url: '/v1/sms-codes/verify', payload: { mobile, purpose: 'register', code }, remoteAddress: '198.51.100.9' })
  t.equal(right.statusCode, 200, 'the refused wrong guess was never checked: the code still works')
})

t.test('TRUST_PROXY takes the client IP from X-Forwarded-For', async (t) => {
  const server2 = await startTestRedis(t)
  const { app } = await makeApp(t, server2, { TRUST_PROXY: '127.0.0.1', SEND_LIMIT_PER_IP_PER_HOUR: '1' })
  const send = (xff: string) => app.inject({ method: 'POST', url: '/v1/sms-codes', payload: { mobile: freshMobile(), purpose: 'register' }, headers: { 'x-forwarded-for': xff } })
  t.equal((await send('192.0.2.1')).statusCode, 202)
  t.equal((await send('192.0.2.1')).json().error, 'rate_limited')
  t.equal((await send('192.0.2.2')).statusCode, 202, 'another client behind the same proxy')
})
