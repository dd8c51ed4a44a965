import t, { type Test } from 'tap'
import { rawExchange } from '@sms-verify/testing'
import { ALLOWED_ORIGIN, buildApi, head, startApi } from './helpers/edge.js'

buildApi()
const api = await startApi(t)
let sent = 0
/** A send for a fresh number (so the resend interval never answers first) with the given target and Host lines. */
function send(target: string, ...hostLines: string[]) {
  const body = JSON.stringify({ mobile: `1390000${String(sent++).padStart(4, '0')}`, purpose: 'register' })
  return rawExchange(api.port, head(`POST ${target} HTTP/1.1`, ...hostLines, `Origin: ${ALLOWED_ORIGIN}`, 'Content-Type: application/json', `Content-Length: ${body.length}`) + body)
}

async function refused(t: Test, what: string, exchange: ReturnType<typeof send>) {
  const { response } = await exchange
  t.equal(response?.status, 400, `${what}: status`)
  t.same(response?.json(), { error: 'invalid_host', message: 'the Host header is not an allowed host' }, `${what}: body`)
  t.equal(response?.headers['access-control-allow-origin'], ALLOWED_ORIGIN, `${what}: CORS headers`)
}

t.test('an absolute-form target is judged by its own authority', async (t) => {
  await refused(t, 'evil authority, good Host', send('http://evil.example/v1/sms-codes', 'Host: localhost'))
  await refused(t, 'evil authority with a port', send('http://evil.example:8000/v1/sms-codes', 'Host: 127.0.0.1'))
  await refused(t, 'userinfo in the authority', send('http://localhost@evil.example/v1/sms-codes', 'Host: localhost'))
  const allowed = await send(`http://localhost:${api.port}/v1/sms-codes`, 'Host: localhost')
  t.equal(allowed.response?.status, 202, 'an allowed authority in absolute form is served')
  const allowedOverBadHost = await send('http://127.0.0.1/v1/sms-codes', 'Host: evil.example')
  t.equal(allowedOverBadHost.response?.status, 202, 'the target\'s authority wins over the Host header (RFC 9112 3.2.2)')
})

t.test('several Host headers are refused, even when the first is allowed', async (t) => {
  await refused(t, 'allowed then evil', send('/v1/sms-codes', 'Host: localhost', 'Host: evil.example'))
  await refused(t, 'evil then allowed', send('/v1/sms-codes', 'Host: evil.example', 'Host: localhost'))
})

t.test('a Host whose port is not a number is refused', async (t) => {
  for (const host of ['localhost:evil.example', 'localhost:80:80', 'localhost:', 'localhost:99999', '127.0.0.1:8000@evil.example', 'local host']) {
    await refused(t, host, send('/v1/sms-codes', `Host: ${host}`))
  }
  for (const host of ['localhost:8000', '127.0.0.1', 'LOCALHOST:1']) {
    const { response } = await send('/v1/sms-codes', `Host: ${host}`)
    t.equal(response?.status, 202, `${host} passes the check`)
  }
})

t.test('preflights are checked too', async (t) => {
  const preflight = (host: string) => rawExchange(api.port, head('OPTIONS /v1/sms-codes HTTP/1.1', `Host: ${host}`, `Origin: ${ALLOWED_ORIGIN}`,
    'Access-Control-Request-Method: POST', 'Access-Control-Request-Headers: content-type'))
  const good = await preflight('localhost:8000')
  t.equal(good.response?.status, 204, 'an allowed host gets its preflight')
  t.equal(good.response?.headers['access-control-allow-origin'], ALLOWED_ORIGIN)
  await refused(t, 'preflight for an evil host', preflight('evil.example'))
})

t.test('probes stay exempt', async (t) => {
  for (const path of ['/healthz', '/readyz', '/metrics']) {
    const { response } = await rawExchange(api.port, head(`GET ${path} HTTP/1.1`, 'Host: 10.0.0.7:8000'))
    t.equal(response?.status, 200, path)
  }
})
