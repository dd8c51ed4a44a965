import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { createRedis, FAIL_FAST } from '@sms-verify/shared'
import { RawHttpConnection, type RawResponse } from '@sms-verify/testing'
import { buildApp } from '../src/app.js'
import { startTestRedis, testConfig } from './helpers/app.js'
import { ALLOWED_ORIGIN, buildApi, head, startApi } from './helpers/edge.js'

buildApi()

/** A request cut short: the server must answer 408 in the contract's shape, or close. */
function timedOut(t: Test, what: string, response: RawResponse | undefined, end: string) {
  t.not(end, 'open', `${what}: the connection does not stay open`)
  // closing without an answer is allowed: the check above is the one that matters then
  if (!response) return t.comment(`${what}: closed without an answer`)
  t.equal(response.status, 408, `${what}: status`)
  t.match(response.json(), { error: 'request_timeout', message: String }, `${what}: body`)
  t.equal(response.headers['x-content-type-options'], 'nosniff', `${what}: nosniff`)
  t.match(response.headers['content-type'], /^application\/json/, `${what}: JSON`)
}

/**
 * Opens a connection, writes `pieces` and then nothing more; resolves with
 * what the server did about it. The deadline is the test's patience, not the
 * server's timeout: 15 s plus the server's checking interval fits well inside it.
 */
async function stall(port: number, pieces: string[], patience: number) {
  const connection = await RawHttpConnection.open(port)
  const started = Date.now()
  try {
    for (const piece of pieces) await connection.write(piece)
    const { response } = await connection.final({ timeout: patience })
    const answeredAfter = Date.now() - started
    const end = await connection.ended({ timeout: patience })
    return { response, end, answeredAfter }
  } finally {
    connection.destroy()
  }
}

const SEND_HEAD = head('POST /v1/sms-codes HTTP/1.1', 'Host: 127.0.0.1', `Origin: ${ALLOWED_ORIGIN}`, 'Content-Type: application/json', 'Content-Length: 100')

t.test('the real process cuts a stalled request off after its 15 s (headers or body)', async (t) => {
  const api = await startApi(t)
  const patience = 25_000
  const [headers, body] = await Promise.all([
    stall(api.port, ['POST /v1/sms-codes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le'], patience),
    stall(api.port, [SEND_HEAD, '{"mobile":"1381'], patience),
  ])
  timedOut(t, 'stalled in the headers', headers.response, headers.end)
  timedOut(t, 'stalled in the body', body.response, body.end)
  if (body.response) t.equal(body.response.headers['access-control-allow-origin'], ALLOWED_ORIGIN, 'the stalled request\'s origin gets CORS headers')
  t.comment(`answered after ${headers.answeredAfter} ms (headers) and ${body.answeredAfter} ms (body)`)
})

t.test('the timeout counts from the start of the request, not from the last byte', async (t) => {
  const redis = await startTestRedis(t)
  const config = testConfig(redis)
  const client = createRedis(config, FAIL_FAST)
  client.on('error', () => undefined)
  const app = await buildApp(config, { redis: client, pepper: randomBytes(32), requestTimeoutMs: 1000 })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port

  const connection = await RawHttpConnection.open(port)
  t.teardown(() => connection.destroy())
  await connection.write(SEND_HEAD)
  // One byte every 100 ms: never idle, never finished (100 bytes would take 10 s).
  const drip = setInterval(() => void connection.write('1'), 100)
  t.teardown(() => clearInterval(drip))
  const { response } = await connection.final({ timeout: 8000 })
  clearInterval(drip)
  timedOut(t, 'a body dripping a byte at a time', response, await connection.ended({ timeout: 8000 }))
})
