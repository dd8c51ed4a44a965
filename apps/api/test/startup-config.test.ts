import t from 'tap'
import { ConfigError, configSchema, loadConfig } from '@sms-verify/shared'
import { runToExit } from '@sms-verify/testing'
import { createCaptcha } from '../src/captcha/create.js'
import { loadTokenKeys } from '../src/tokens/keys.js'
import { pemBody, pemPair } from './helpers/token-keys.js'

/** Runs the built API with `env`; it must refuse to start before it touches Redis. */
const runApi = (env: Record<string, string>) =>
  // nothing listens on port 1: the config is refused before any connection matters
  runToExit('apps/api/dist/main.js', { REDIS_URL: 'redis://127.0.0.1:1/0', PORT: '0', LOG_LEVEL: 'warn', ...env }, 20_000)

/** Any 12 characters in a row of the secret appearing in the output count as an echo. */
const echoes = (output: string, secret: string) => {
  for (let i = 0; i + 12 <= secret.length; i += 4) if (output.includes(secret.slice(i, i + 12))) return true
  return false
}

t.test('a bad token key stops the process with one line naming the variable, never echoing it', async (t) => {
  const rsa = pemPair('RS256').privatePem
  for (const [what, value] of [['an RSA key', rsa], ['a line of text', 'my-very-secret-signing-key-material']] as const) {
    const { code, stdout, stderr } = await runApi({ VERIFICATION_TOKEN_KEY: value })
    t.equal(code, 1, `${what}: exit 1`)
    const lines = stderr.trim().split('\n')
    t.equal(lines.length, 1, `${what}: one line`)
    t.match(lines[0], /^invalid configuration: VERIFICATION_TOKEN_KEY .*EC P-256 or Ed25519/)
    t.notOk(echoes(stdout + stderr, what === 'an RSA key' ? pemBody(value) : value), `${what}: the value is not shown`)
  }
})

t.test('a captcha setting missing or malformed stops the process with one line', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ CAPTCHA_PROVIDER: 'turnstile' }, /^invalid configuration: CAPTCHA_PROVIDER=turnstile needs CAPTCHA_SECRET$/],
    [{ CAPTCHA_PROVIDER: 'tencent', TENCENT_SECRET_ID: 'AKIDx', TENCENT_SECRET_KEY: 'captcha-secret-key-not-shown' },
      /^invalid configuration: CAPTCHA_PROVIDER=tencent needs TENCENT_CAPTCHA_APP_ID, TENCENT_CAPTCHA_APP_SECRET_KEY$/],
    [{ CAPTCHA_PROVIDER: 'recaptcha', CAPTCHA_SECRET: 'captcha-secret-key-not-shown' }, /^invalid configuration: CAPTCHA_PROVIDER /],
    [{ CAPTCHA_PROVIDER: 'hcaptcha', CAPTCHA_SECRET: 'captcha-secret-key-not-shown', CAPTCHA_VERIFY_URL: 'ftp://example.test/x' }, /^invalid configuration: CAPTCHA_VERIFY_URL /],
    [{ CAPTCHA_PROVIDER: 'tencent', TENCENT_CAPTCHA_APP_ID: 'abc', TENCENT_CAPTCHA_APP_SECRET_KEY: 'captcha-secret-key-not-shown' }, /^invalid configuration: TENCENT_CAPTCHA_APP_ID /],
  ]
  for (const [env, line] of cases) {
    const { code, stdout, stderr } = await runApi(env)
    t.equal(code, 1)
    t.equal(stderr.trim().split('\n').length, 1, 'one line')
    t.match(stderr.trim(), line)
    t.notOk((stdout + stderr).includes('captcha-secret-key-not-shown'), 'no secret echoed')
  }
})

t.test('only PKCS#8 EC P-256 and Ed25519 keys are taken', async (t) => {
  const config = (env: Record<string, string>) => loadConfig(configSchema, env)
  for (const kind of ['ES384', 'Ed448', 'RS256'] as const) {
    await t.rejects(loadTokenKeys(config({ VERIFICATION_TOKEN_KEY: pemPair(kind).privatePem })), ConfigError, kind)
  }
  const p256 = pemPair('ES256')
  const sec1 = p256.privateKey.export({ type: 'sec1', format: 'pem' }) as string
  await t.rejects(loadTokenKeys(config({ VERIFICATION_TOKEN_KEY: sec1 })), /VERIFICATION_TOKEN_KEY must be a PEM PKCS#8/, 'SEC1 "EC PRIVATE KEY" is not PKCS#8')
  await t.rejects(loadTokenKeys(config({ VERIFICATION_TOKEN_KEY: p256.publicPem })), /VERIFICATION_TOKEN_KEY/, 'a public key is not a signing key')

  const oneLine = p256.privatePem.trim().replace(/\n/g, '\\n')
  const keys = await loadTokenKeys(config({ VERIFICATION_TOKEN_KEY: oneLine }))
  t.equal(keys?.signing.alg, 'ES256', 'a PEM with literal \\n (env files) is read')

  await t.rejects(loadTokenKeys(config({ VERIFICATION_TOKEN_KEY: p256.privatePem, VERIFICATION_TOKEN_PREVIOUS_PUBLIC_KEYS: `${pemPair('EdDSA').publicPem};${pemPair('ES384').publicPem}` })),
    /^invalid configuration: VERIFICATION_TOKEN_PREVIOUS_PUBLIC_KEYS entry 2 must be a PEM public key/)
  await t.rejects(loadTokenKeys(config({ VERIFICATION_TOKEN_PREVIOUS_PUBLIC_KEYS: p256.publicPem })), /VERIFICATION_TOKEN_PREVIOUS_PUBLIC_KEYS is set without VERIFICATION_TOKEN_KEY/)
  const same = await loadTokenKeys(config({ VERIFICATION_TOKEN_KEY: p256.privatePem, VERIFICATION_TOKEN_PREVIOUS_PUBLIC_KEYS: p256.publicPem }))
  t.equal(same?.jwks.keys.length, 1, 'the current key listed as previous too is served once')
  t.equal(await createCaptcha(config({})), undefined, 'captcha is off without CAPTCHA_PROVIDER')
})
