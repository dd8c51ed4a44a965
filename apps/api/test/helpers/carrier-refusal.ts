import { decodeDeadLetter, partition, type DeadLetter, type E164 } from '@sms-verify/shared'
import { fakeProviderEnv, startSenderProcess, waitFor, type RedisServer, type RunningProcess } from '@sms-verify/testing'
import { e164, freshMobile, getStatus, makeApp, sendCode } from './app.js'

interface Teardown { teardown(fn: () => unknown): void }

/** What the carrier-limit tests share of a fake: where it listens, how it answers a number, how to stop it. */
interface RefusingFake<Behaviour> {
  readonly endpoint: string
  readonly behaviour: Map<string, Behaviour>
  stop(): Promise<void>
}

/**
 * The API and a real sender process on `provider` against its fake, which answers a fresh
 * number with `refusal`; one code is sent and awaited until its request reads failed.
 * Returns what the test goes on with: the app, a Redis client, the number and its dead letter.
 */
export async function sendUntilCarrierRefuses<Behaviour>(t: Teardown, server: RedisServer, provider: 'tencent' | 'aliyun',
  fake: RefusingFake<Behaviour>, refusal: Behaviour) {
  let sender: RunningProcess | undefined
  t.teardown(async () => { await sender?.kill('SIGKILL'); await fake.stop() })
  const mobile = freshMobile()
  const number = e164(mobile) as E164
  fake.behaviour.set(number, refusal)
  sender = await startSenderProcess({ REDIS_URL: server.url, SMS_PROVIDER: provider, ...fakeProviderEnv({ [provider]: fake.endpoint }) })
  const { app } = await makeApp(t, server)
  const redis = server.client()
  const p = partition(0, 1, false)

  const first = await sendCode(app, { mobile, purpose: 'login' })
  if (first.statusCode !== 202) throw new Error(`the send was not accepted: ${first.statusCode} ${first.body}`)
  const { requestId } = first.json() as { requestId: string }
  await waitFor(async () => (await getStatus(app, requestId)).body.status === 'failed', { timeout: 15_000, what: 'the request to read failed' })
  const [dead] = await redis.xrange(p.deadStream, '-', '+')
  if (!dead) throw new Error('no dead letter')
  const decoded = decodeDeadLetter(dead[1])
  if (!decoded.ok) throw new Error(decoded.reason)
  const letter: DeadLetter = decoded.letter
  return { app, redis, p, mobile, number, requestId, letter }
}
