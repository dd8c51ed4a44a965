import t from 'tap'
import { RawHttpConnection, rawExchange, type RawResponse } from '@sms-verify/testing'
import { ALLOWED_ORIGIN, buildApi, chunked, head, paddedBody, startApi } from './helpers/edge.js'

buildApi()
const TRIES = 50
const BODY = paddedBody(2 * 1024 * 1024)
const api = await startApi(t, { ADMIN_TOKEN: 'edge-admin-token' })

/** 'ok' when the answer is a complete error (413 unless said) in the contract's shape; otherwise what went wrong. */
function verdict(response: RawResponse | undefined, interim: readonly RawResponse[] = [], status = 413, error = 'payload_too_large'): string {
  if (!response) return 'no answer before the connection ended'
  if (interim.length > 0) return `interim ${interim.map((r) => r.status).join(',')} before the answer`
  if (response.status !== status) return `status ${response.status}`
  let body: unknown
  try { body = response.json() } catch { return 'body is not JSON' }
  if (body === null || typeof body !== 'object') return 'body is not an object'
  if ((body as { error?: unknown }).error !== error || typeof (body as { message?: unknown }).message !== 'string') return `body ${response.text().slice(0, 80)}`
  if (response.headers['access-control-allow-origin'] !== ALLOWED_ORIGIN) return 'no CORS headers'
  if (response.headers['x-content-type-options'] !== 'nosniff') return 'no nosniff'
  if (response.headers.connection !== 'close') return 'no Connection: close'
  return 'ok'
}

const tally = (verdicts: readonly string[]) => verdicts.reduce<Record<string, number>>((acc, v) => ({ ...acc, [v]: (acc[v] ?? 0) + 1 }), {})

const postHead = (path: string, ...lines: string[]) =>
  head(`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Type: application/json', `Origin: ${ALLOWED_ORIGIN}`, ...lines)

async function announced(path: string, extra: string[] = []): Promise<string> {
  const { response, interim } = await rawExchange(api.port, [postHead(path, `Content-Length: ${BODY.length}`, ...extra), BODY])
  return verdict(response, interim)
}

async function streamedChunked(path: string, extra: string[] = []): Promise<string> {
  const { response, interim } = await rawExchange(api.port, [postHead(path, 'Transfer-Encoding: chunked', ...extra), ...chunked(BODY)])
  return verdict(response, interim)
}

/**
 * As curl and browsers do: send the head, wait for 100 Continue or a final
 * answer, send the body only after a 100. A length announced over the limit
 * must be refused without a 100; a chunked body cannot be judged before it
 * comes, so there the 100 is right and the cut comes while reading.
 */
async function expectContinue(path: string, framing: string): Promise<string> {
  const connection = await RawHttpConnection.open(api.port)
  try {
    await connection.write(postHead(path, framing, 'Expect: 100-continue'))
    const first = await connection.next({ timeout: 5000 })
    if (first?.status !== 100) return verdict(first)
    if (framing.startsWith('Content-Length')) return 'interim 100 for a length over the limit'
    void Promise.all(chunked(BODY).map((c) => connection.write(c)))
    const { response, interim } = await connection.final({ timeout: 10_000 })
    return verdict(response, interim)
  } finally {
    connection.destroy()
  }
}

t.test(`a body over the limit is a complete, readable 413 (${TRIES} tries each)`, async (t) => {
  const modes: Array<[string, () => Promise<string>]> = [
    ['Content-Length', () => announced('/v1/sms-codes')],
    ['chunked', () => streamedChunked('/v1/sms-codes')],
    ['Expect: 100-continue with Content-Length', () => expectContinue('/v1/sms-codes', `Content-Length: ${BODY.length}`)],
    ['Expect: 100-continue, chunked', () => expectContinue('/v1/sms-codes', 'Transfer-Encoding: chunked')],
  ]
  for (const [mode, attempt] of modes) {
    const verdicts: string[] = []
    for (let i = 0; i < TRIES; i++) verdicts.push(await attempt())
    t.same(tally(verdicts), { ok: TRIES }, mode)
  }
})

t.test('every route that takes a body answers 413 the same way', async (t) => {
  const auth = 'Authorization: Bearer edge-admin-token'
  const big = paddedBody(3 * 1024 * 1024) // over the bulk route's own 1 MB limit
  t.equal(await announced('/v1/sms-codes/verify'), 'ok', '/v1/sms-codes/verify')
  const { response } = await rawExchange(api.port, [postHead('/v1/sms/notifications', auth, `Content-Length: ${big.length}`), big])
  t.equal(verdict(response), 'ok', 'bulk notifications, announced')
  const streamed = await rawExchange(api.port, [postHead('/v1/sms/notifications', auth, 'Transfer-Encoding: chunked'), ...chunked(big)])
  t.equal(verdict(streamed.response), 'ok', 'bulk notifications, chunked')
})

t.test('other refusals while a body is on its way are readable too', async (t) => {
  const refusals: Array<[string, [string, ...string[]], number, string]> = [
    ['no bearer token', ['POST /v1/sms/notifications HTTP/1.1', 'Host: 127.0.0.1'], 401, 'unauthorized'],
    ['a host we do not serve', ['POST /v1/sms-codes HTTP/1.1', 'Host: evil.example'], 400, 'invalid_host'],
    ['a body that is not JSON', ['POST /v1/sms-codes HTTP/1.1', 'Host: 127.0.0.1', 'Content-Type: text/plain'], 415, 'unsupported_media_type'],
    ['a route that takes no body', ['POST /sms_codes/13812345678/ HTTP/1.1', 'Host: 127.0.0.1'], 405, 'method_not_allowed'],
  ]
  for (const [what, lines, status, error] of refusals) {
    const verdicts: string[] = []
    for (let i = 0; i < 10; i++) {
      const { response } = await rawExchange(api.port, [head(...lines, `Origin: ${ALLOWED_ORIGIN}`, `Content-Length: ${BODY.length}`), BODY])
      verdicts.push(verdict(response, [], status, error))
    }
    t.same(tally(verdicts), { ok: 10 }, what)
  }
})

t.test('a small body is still read and answered normally', async (t) => {
  const body = JSON.stringify({ mobile: '13812345678', purpose: 'register', code: '123456' })
  const { response } = await rawExchange(api.port, postHead('/v1/sms-codes/verify', `Content-Length: ${Buffer.byteLength(body)}`) + body)
  t.equal(response?.status, 404, 'no code: the request was read and answered normally')
})
