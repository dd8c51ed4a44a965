import t from 'tap'
import { ConfigError, deploymentProblems, loadServiceConfig, localOnlyWarnings, loadConfig, configSchema } from '../src/index.js'

const PEPPER = 'p'.repeat(32)
const SEAL_KEY = Buffer.alloc(32, 7).toString('base64')
const secrets = { CODE_PEPPER: PEPPER, JOB_SEAL_KEY: SEAL_KEY }
const deployments: Array<Record<string, string>> = [{ NODE_ENV: 'production' }, { REDIS_CLUSTER_NODES: '127.0.0.1:7000' }]

const refusal = (env: Record<string, string>): string => {
  try {
    loadServiceConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err.message
    throw err
  }
  return ''
}

for (const mode of deployments) {
  const label = Object.entries(mode)[0]!.join('=')
  t.test(`${label}: refuses to start without the secrets, naming each on one line`, async (t) => {
    const message = refusal(mode)
    t.match(message, /CODE_PEPPER/)
    t.match(message, /JOB_SEAL_KEY/)
    t.match(message, /openssl rand -base64 32/, 'says how to make one')
    t.notMatch(message, /\n/)
    t.match(refusal({ ...mode, JOB_SEAL_KEY: SEAL_KEY }), /CODE_PEPPER must be set/)
    t.notMatch(refusal({ ...mode, JOB_SEAL_KEY: SEAL_KEY }), /JOB_SEAL_KEY/)
    t.match(refusal({ ...mode, CODE_PEPPER: PEPPER }), /JOB_SEAL_KEY must be set/)
  })

  t.test(`${label}: a pepper under 32 characters is refused and not shown`, async (t) => {
    const short = 'x'.repeat(31)
    const message = refusal({ ...mode, ...secrets, CODE_PEPPER: short })
    t.match(message, /CODE_PEPPER must be at least 32 characters/)
    t.notMatch(message, /x{31}/)
    t.equal(refusal({ ...mode, ...secrets }), '', 'exactly 32 is enough')
  })

  t.test(`${label}: * for CORS_ORIGINS or ALLOWED_HOSTS is refused`, async (t) => {
    t.match(refusal({ ...mode, ...secrets, CORS_ORIGINS: '*' }), /CORS_ORIGINS/)
    t.match(refusal({ ...mode, ...secrets, ALLOWED_HOSTS: 'api.example.com,*' }), /ALLOWED_HOSTS/)
    const both = refusal({ ...mode, CORS_ORIGINS: 'https://a.example,*', ALLOWED_HOSTS: '*' })
    for (const name of ['CODE_PEPPER', 'JOB_SEAL_KEY', 'CORS_ORIGINS', 'ALLOWED_HOSTS']) t.match(both, new RegExp(name), `${name} named`)
    t.notMatch(both, /\n/)
  })
}

t.test('a local run (NODE_ENV unset, no cluster) starts without secrets and warns what to set in production', async (t) => {
  const config = loadServiceConfig({ CORS_ORIGINS: '*', ALLOWED_HOSTS: '*' })
  t.same(deploymentProblems(config), [])
  const warnings = localOnlyWarnings(config, ['CODE_PEPPER', 'JOB_SEAL_KEY'])
  t.equal(warnings.length, 2)
  for (const [w, name] of warnings.map((w, i) => [w, ['CODE_PEPPER', 'JOB_SEAL_KEY'][i]!] as const)) {
    t.match(w, new RegExp(`^${name} is unset: .*fine for local use; set ${name} in production \\(openssl rand -base64 32\\)$`))
  }
  t.same(localOnlyWarnings(loadConfig(configSchema, secrets), ['CODE_PEPPER', 'JOB_SEAL_KEY']), [], 'no warning once set')
  t.same(localOnlyWarnings(config, ['JOB_SEAL_KEY']).length, 1, 'a process warns only about what it uses')
})
