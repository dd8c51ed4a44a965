import t from 'tap'
import { execFile } from 'node:child_process'
import { repoRoot } from '@sms-verify/testing'
import { startApiProcess } from './helpers/cluster-system.js'
import { freshMobile, startTestRedis, streamEntries } from './helpers/app.js'
import { startCaptcha } from './helpers/captcha.js'
import { pemPair } from './helpers/token-keys.js'

const TEST_NUMBER = '+8613800000001'
const TEST_CODE = '246810'

/** examples/verify-token.mjs as an app's backend runs it: exit code, stdout, stderr. */
function runExample(token: string, env: Record<string, string>): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['examples/verify-token.mjs', token], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }))
  })
}

t.test('a running API process: captcha on sends, and examples/verify-token.mjs checks its token', async (t) => {
  const server = await startTestRedis(t)
  const key = pemPair('EdDSA')
  const captcha = await startCaptcha(t, 'turnstile')
  const api = await startApiProcess({
    ...captcha.env,
    REDIS_URL: server.url, TEST_NUMBERS: `${TEST_NUMBER}=${TEST_CODE}`, LOG_LEVEL: 'info',
    VERIFICATION_TOKEN_KEY: key.privatePem, VERIFICATION_TOKEN_AUDIENCE: 'shop-backend',
  })
  t.teardown(() => api.proc.kill())
  const post = (path: string, body: object) => fetch(`${api.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

  const mobile = freshMobile()
  const refused = await post('/v1/sms-codes', { mobile, purpose: 'register' })
  t.equal(refused.status, 400)
  t.equal((await refused.json() as { error: string }).error, 'captcha_required')
  const solved = await post('/v1/sms-codes', { mobile, purpose: 'register', ...captcha.solve('127.0.0.1') })
  t.equal(solved.status, 202, 'a solved captcha from the client address lets the send through')
  t.equal((await streamEntries(server)).length, 1)

  // A test number skips the captcha.
  const sent = await post('/v1/sms-codes', { mobile: TEST_NUMBER, purpose: 'register' })
  t.equal(sent.status, 202)
  const { requestId } = await sent.json() as { requestId: string }
  const verified = await post('/v1/sms-codes/verify', { mobile: TEST_NUMBER, purpose: 'register', code: TEST_CODE })
  t.equal(verified.status, 200)
  const { token } = await verified.json() as { token: string }

  const env = { SMS_VERIFY_URL: api.url, TOKEN_AUDIENCE: 'shop-backend', TOKEN_PURPOSE: 'register' }
  const ok = await runExample(token, env)
  t.equal(ok.code, 0, ok.stderr)
  t.match(JSON.parse(ok.stdout), { sub: TEST_NUMBER, purpose: 'register', jti: requestId, iss: 'sms-verify', aud: 'shop-backend' })

  const otherApp = await runExample(token, { ...env, TOKEN_AUDIENCE: 'another-app' })
  t.equal(otherApp.code, 1)
  t.match(otherApp.stderr, /^token refused: ERR_JWT_CLAIM_VALIDATION_FAILED/)
  const otherPurpose = await runExample(token, { ...env, TOKEN_PURPOSE: 'reset_password' })
  t.equal(otherPurpose.code, 1, 'a token for one purpose does not pass for another')
  const tampered = await runExample(`${token.slice(0, -4)}AAAA`, env)
  t.equal(tampered.code, 1)
  t.match(tampered.stderr, /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/)

  await api.proc.kill()
  t.notOk(api.proc.output().includes(token.split('.')[2]!), 'the API process never logged the token')
})
