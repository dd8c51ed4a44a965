import t, { type Test } from 'tap'
import fc from 'fast-check'
import { rawExchange, type RawExchange, type RawResponse } from '@sms-verify/testing'
import { ALLOWED_ORIGIN, buildApi, head, startApi } from './helpers/edge.js'

buildApi()
const api = await startApi(t)
/** Put in every malformed request: no answer may contain it. */
const MARKER = 'zqECHOqz'

const exchange = (request: string | Buffer | Array<string | Buffer>, isHead = false) => rawExchange(api.port, request, { timeout: 5000, finishAfter: 500, head: isHead })

/** A complete answer in the contract's shape, with the edge headers, that does not echo the request. */
function contractAnswer(t: Test, what: string, { response }: RawExchange, status: number, error: string): RawResponse | undefined {
  if (!response) {
    t.fail(`${what}: no answer`)
    return undefined
  }
  t.equal(response.status, status, `${what}: status`)
  t.match(response.headers['content-type'], /^application\/json/, `${what}: JSON`)
  t.match(response.json(), { error, message: String }, `${what}: body`)
  t.equal(response.headers['x-content-type-options'], 'nosniff', `${what}: nosniff`)
  t.notMatch(response.text(), MARKER, `${what}: the request is not echoed`)
  return response
}

const withOrigin = (requestLine: string, ...lines: string[]) => head(requestLine, 'Host: localhost', `Origin: ${ALLOWED_ORIGIN}`, ...lines)

t.test('parser errors: bad framing and invalid header bytes are 400 bad_request, with CORS headers', async (t) => {
  const cases: Array<[string, string | string[]]> = [
    ['Content-Length and chunked together', withOrigin(`POST /v1/sms-codes?${MARKER} HTTP/1.1`, 'Content-Length: 5', 'Transfer-Encoding: chunked') + '0\r\n\r\n'],
    ['a Content-Length that is not a number', withOrigin(`POST /v1/sms-codes?${MARKER} HTTP/1.1`, 'Content-Length: 1x')],
    ['two different Content-Lengths', withOrigin(`POST /v1/sms-codes?${MARKER} HTTP/1.1`, 'Content-Length: 1', 'Content-Length: 2') + 'xx'],
    ['a bad chunk size after the head', [withOrigin(`POST /v1/sms-codes?${MARKER} HTTP/1.1`, 'Content-Type: application/json', 'Transfer-Encoding: chunked'), `zz${MARKER}\r\n`]],
    ['a control byte in a header value', withOrigin('GET /v1/sms-codes/requests/0-AAAAAAAAAAAAAAAA HTTP/1.1', `X-Test: a\x01${MARKER}`)],
    ['a space in a header name', withOrigin('GET /healthz HTTP/1.1', `Bad Header: ${MARKER}`)],
    ['a bare LF inside a header line', withOrigin('GET /healthz HTTP/1.1', `X-Test: a\nb${MARKER}`)],
    ['a TLS hello on the plain port', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' + MARKER],
  ]
  for (const [what, request] of cases) {
    const response = contractAnswer(t, what, await exchange(request), 400, 'bad_request')
    if (response && !what.startsWith('a TLS')) {
      t.equal(response.headers['access-control-allow-origin'], ALLOWED_ORIGIN, `${what}: CORS headers`)
    }
  }
})

t.test('oversized headers are 431, an over-long URL is 414', async (t) => {
  const big = 'a'.repeat(20 * 1024)
  const r431 = contractAnswer(t, 'a 20 KB header', await exchange(withOrigin('GET /healthz HTTP/1.1', `X-Big: ${MARKER}${big}`)), 431, 'headers_too_large')
  t.equal(r431?.headers['access-control-allow-origin'], ALLOWED_ORIGIN, '431: CORS headers')
  contractAnswer(t, 'a 10 KB URL', await exchange(withOrigin(`GET /v1/sms-codes/requests/0-AAAAAAAAAAAAAAAA?${MARKER}=${'b'.repeat(10 * 1024)} HTTP/1.1`)), 414, 'uri_too_long')
  contractAnswer(t, 'a 20 KB URL', await exchange(withOrigin(`GET /v1/sms-codes/requests/0-AAAAAAAAAAAAAAAA?${MARKER}=${big} HTTP/1.1`)), 414, 'uri_too_long')
  contractAnswer(t, 'a 200-character path parameter', await exchange(withOrigin(`GET /v1/sms-codes/requests/${MARKER}${'c'.repeat(200)} HTTP/1.1`)), 414, 'uri_too_long')
})

t.test('undecodable URLs are 400 bad_request and are not echoed', async (t) => {
  for (const target of [`/v1/sms-codes/requests/%zz${MARKER}`, `/sms_codes/%E0%A4%A${MARKER}/`, `/${MARKER}%`]) {
    const response = contractAnswer(t, target, await exchange(withOrigin(`GET ${target} HTTP/1.1`)), 400, 'bad_request')
    t.equal(response?.headers['access-control-allow-origin'], ALLOWED_ORIGIN, `${target}: CORS headers`)
  }
})

t.test('unknown methods and CONNECT are 405 method_not_allowed', async (t) => {
  for (const [what, request] of [
    ['a method Node does not know', withOrigin('FOO /v1/sms-codes HTTP/1.1')],
    ['CONNECT', head(`CONNECT ${MARKER}.example:443 HTTP/1.1`, `Host: ${MARKER}.example:443`)],
    ['a WebDAV method', withOrigin('PROPFIND /v1/sms-codes HTTP/1.1')],
    // Node's parser takes `PRI` (the HTTP/2 preface's method) without a version as HTTP/0.9; Fastify's router cannot look it up
    ['PRI without a version', `PRI /v1/sms-codes?${MARKER}\r\n\r\n0\r\n\r\n`],
  ] as const) {
    const response = contractAnswer(t, what, await exchange(request), 405, 'method_not_allowed')
    t.ok(response?.headers.allow, `${what}: Allow header`)
  }
})

t.test('an expectation other than 100-continue is 417 in the contract\'s shape', async (t) => {
  contractAnswer(t, 'Expect: teapot', await exchange(withOrigin('POST /v1/sms-codes HTTP/1.1', `Expect: ${MARKER}`, 'Content-Length: 2') + '{}'), 417, 'expectation_failed')
})

/** Pieces of requests, valid and not, that the fuzzer puts together. */
const pieces = {
  method: fc.oneof(fc.constantFrom('GET', 'POST', 'OPTIONS', 'HEAD', 'PUT', 'DELETE', 'CONNECT', 'PRI', 'FOO', 'G ET', ''), fc.string({ maxLength: 8 })),
  target: fc.oneof(
    fc.constantFrom('/v1/sms-codes', '/v1/sms-codes/verify', '/healthz', '/sms_codes/13812345678/', '/v1/sms-codes/requests/0-AAAAAAAAAAAAAAAA', '*', 'http://evil.example/v1/sms-codes', '/%zz', '/%', '//'),
    fc.string({ maxLength: 40 }).map((s) => `/${s}`),
    fc.string({ unit: 'binary', maxLength: 20 }),
  ).map((target) => `${target}${target.includes('?') ? '&' : '?'}${MARKER}`),
  version: fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 x', 'HTTP/9.9', ''),
  header: fc.oneof(
    fc.constantFrom<[string, string]>(['Host', 'localhost'], ['Host', 'evil.example'], ['Host', 'localhost:x'], ['Origin', ALLOWED_ORIGIN],
      ['Content-Type', 'application/json'], ['Content-Type', 'text/plain'], ['Transfer-Encoding', 'chunked'], ['Transfer-Encoding', 'gzip, chunked'],
      ['Expect', '100-continue'], ['Expect', 'nothing'], ['Connection', 'upgrade'], ['Upgrade', 'websocket'], ['X-Marker', MARKER]),
    fc.tuple(fc.constant('Content-Length'), fc.oneof(fc.nat({ max: 64 }).map(String), fc.constantFrom('-1', '1e3', '99999999999999999999', ' 5', '0x10'))),
    fc.tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 30 })),
    fc.tuple(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 30 })),
  ),
  lineEnd: fc.constantFrom('\r\n', '\r\n', '\r\n', '\n', '\r'),
  body: fc.oneof(fc.constant(''), fc.constant('{"mobile":"13812345678","purpose":"login","code":"123456"}'), fc.string({ unit: 'binary', maxLength: 80 }), fc.constant('0\r\n\r\n')),
}

const request = fc.record({
  method: pieces.method, target: pieces.target, version: pieces.version,
  headers: fc.array(pieces.header, { maxLength: 6 }), lineEnd: pieces.lineEnd, body: pieces.body,
}).map(({ method, target, version, headers, lineEnd, body }) => ({
  head: method === 'HEAD',
  // a string, so a counterexample prints readably; sent as UTF-8
  text: [`${method} ${target} ${version}`.trimEnd(), ...headers.map(([name, value]) => `${name}: ${value}`), '', body].join(lineEnd),
}))

t.test('fuzz: no malformed request gets a 5xx, an answer outside the shape, an echo or a hang', async (t) => {
  let answered = 0
  let closed = 0
  await fc.assert(fc.asyncProperty(request, async ({ text, head }) => {
    const { response, end } = await exchange(Buffer.from(text, 'utf8'), head) // throws on a hang: 5 s without an answer or a close
    if (!response) {
      if (end === 'open') throw new Error('no answer and still open')
      closed++
      return
    }
    answered++
    if (response.status >= 500) throw new Error(`status ${response.status}: ${response.text().slice(0, 200)}`)
    if (response.headers['x-content-type-options'] !== 'nosniff') throw new Error(`no nosniff on ${response.status}`)
    if (response.text().includes(MARKER)) throw new Error(`echoed: ${response.text().slice(0, 200)}`)
    if (response.status >= 400 && !head) {
      const body = response.json() as { error?: unknown, message?: unknown }
      if (typeof body.error !== 'string' || typeof body.message !== 'string') throw new Error(`not the shape: ${response.text().slice(0, 200)}`)
    }
  }), { numRuns: Number(process.env.FUZZ_RUNS ?? 300) })
  t.ok(answered > 0 && closed >= 0, `${answered} answered, ${closed} closed without an answer`)
  const health = await exchange(head('GET /healthz HTTP/1.1', 'Host: localhost'))
  t.equal(health.response?.status, 200, 'the server is still healthy')
})
