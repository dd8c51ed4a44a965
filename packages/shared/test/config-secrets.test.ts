import fc from 'fast-check'
import t from 'tap'
import { ConfigError, configSchema, isSecretVariable, loadConfig, withoutPassword } from '../src/index.js'

/** The error line loadConfig throws for `env`. */
const errorLine = (env: Record<string, string>): string => {
  try {
    loadConfig(configSchema, env)
  } catch (err) {
    if (err instanceof ConfigError) return err.message
    throw err
  }
  throw new Error(`expected ${JSON.stringify(Object.keys(env))} to be refused`)
}

/** Values long and distinctive enough that they cannot appear in the message by chance. */
const secretValue = fc.stringMatching(/^[A-Za-z0-9]{6,20}$/).map((s) => `Zq${s}`)
const check = <Ts>(property: fc.IProperty<Ts>) => {
  const result = fc.check(property, { numRuns: 200 })
  if (result.failed) throw new Error(`${fc.defaultReportMessage(result)} (seed ${result.seed})`)
}

// Each: a secret variable and how to make an invalid value of it around a generated secret.
const invalid: Array<[string, (secret: string) => string]> = [
  ['JOB_SEAL_KEY', (s) => `${s}-not-base64`],
  ['ADMIN_TOKEN', (s) => s.slice(0, 8)], // under 16 characters
  ['CALLBACK_TOKEN', (s) => s.slice(0, 8)],
  ['TEST_NUMBERS', (s) => `+8613800000000=90817263,${s}`], // a good pair, then a bad one: the fixed code stays hidden
]

t.test('an invalid secret is named, never echoed (fast-check over values)', async (t) => {
  for (const [name, make] of invalid) {
    check(fc.property(secretValue, (secret) => {
      const value = make(secret)
      const line = errorLine({ [name]: value })
      return line.includes(name) && !line.includes(value) && line.includes('not shown')
    }))
    t.pass(`${name}: named, value hidden`)
  }
})

t.test('the rule goes by name, so variables added later are covered', async (t) => {
  for (const name of ['CODE_PEPPER', 'JOB_SEAL_KEY', 'ADMIN_TOKEN', 'CALLBACK_TOKEN', 'TEST_NUMBERS', 'TENCENT_SECRET_KEY', 'TENCENT_SECRET_ID',
    'RONGLIAN_AUTH_TOKEN', 'VERIFICATION_TOKEN_KEY', 'CAPTCHA_SECRET', 'ALIYUN_ACCESS_KEY_SECRET', 'TENCENT_CAPTCHA_APP_SECRET_KEY', 'REDIS_PASSWORD']) {
    t.ok(isSecretVariable(name), `${name} is a secret`)
  }
  for (const name of ['PORT', 'REDIS_URL', 'CORS_ORIGINS', 'SMS_PROVIDER', 'CODE_LENGTH', 'TENCENT_SMS_TEMPLATES', 'KEYWORDS']) {
    t.notOk(isSecretVariable(name), `${name} is shown`)
  }
})

t.test('a bad REDIS_URL is shown with its password replaced (fast-check)', async (t) => {
  check(fc.property(secretValue, fc.constantFrom('', 'default', 'app'), (password, user) => {
    const url = `http://${user}:${password}@cache.internal:6379/0` // not redis://: invalid
    const line = errorLine({ REDIS_URL: url })
    return line.includes('REDIS_URL') && !line.includes(password) && line.includes(`http://${user}:***@cache.internal:6379/0`)
  }))
  t.equal(withoutPassword('redis://secretonly@h:1'), 'redis://***@h:1', 'a userinfo without a colon is all password')
  t.equal(withoutPassword('redis://h:1/0'), 'redis://h:1/0', 'nothing to hide')
  t.equal(withoutPassword('redis://u:p@ss@h:1'), 'redis://u:***@h:1', 'an @ inside the password')
  t.match(errorLine({ PORT: 'eighty' }), /PORT .*\(got "eighty"\)/, 'other values are still echoed')
})
