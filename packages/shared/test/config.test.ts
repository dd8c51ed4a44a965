import t from 'tap'
import { ConfigError, configSchema, loadConfig, partitionCount } from '../src/index.js'

t.test('defaults follow the contract', async (t) => {
  const c = loadConfig(configSchema, {})
  t.equal(c.REDIS_URL, 'redis://127.0.0.1:6379/0')
  t.same(c.CORS_ORIGINS, ['http://127.0.0.1:8080', 'http://localhost:8080'])
  t.same(c.ALLOWED_HOSTS, ['127.0.0.1', 'localhost'])
  t.equal(c.CODE_TTL_SECONDS, 300)
  t.equal(c.RESEND_INTERVAL_SECONDS, 60)
  t.same(c.SMS_PROVIDER, ['console'])
  t.equal(c.SENDER_CONCURRENCY, 32)
  t.equal(c.CODE_LENGTH, 6)
  t.equal(partitionCount(c), 1)
  t.ok(Object.isFrozen(c))
})

t.test('values are converted and lists split', async (t) => {
  const c = loadConfig(configSchema, {
    PORT: '9000', SMS_PROVIDER: 'tencent,ronglian', REDIS_CLUSTER_NODES: '127.0.0.1:7000, 127.0.0.1:7001',
    TENCENT_SMS_TEMPLATES: 'register=707336,login=727055', TEST_NUMBERS: '+8613800000000=123456', EMPTY: '',
  })
  t.equal(c.PORT, 9000)
  t.same(c.SMS_PROVIDER, ['tencent', 'ronglian'])
  t.same(c.REDIS_CLUSTER_NODES, ['127.0.0.1:7000', '127.0.0.1:7001'])
  t.equal(partitionCount(c), 16, 'cluster mode defaults to 16 partitions')
  t.same(c.TENCENT_SMS_TEMPLATES, { register: '707336', login: '727055' })
  t.equal(c.TEST_NUMBERS.get('+8613800000000'), '123456')
})

t.test('every bad variable is named on one line', async (t) => {
  const err = t.throws(() => loadConfig(configSchema, { PORT: 'eighty', CODE_LENGTH: '12', SMS_PROVIDER: 'twilio' })) as Error
  t.type(err, ConfigError)
  t.notMatch(err.message, /\n/)
  t.match(err.message, /PORT/)
  t.match(err.message, /CODE_LENGTH/)
  t.match(err.message, /SMS_PROVIDER/)
})

t.test('a bad secret is named but its value is never echoed', async (t) => {
  const err = t.throws(() => loadConfig(configSchema, { ADMIN_TOKEN: 'short-secret', JOB_SEAL_KEY: 'not-base64-key' })) as Error
  t.match(err.message, /ADMIN_TOKEN/)
  t.match(err.message, /JOB_SEAL_KEY/)
  t.notMatch(err.message, /short-secret|not-base64-key/)
})

t.test('an empty variable counts as unset', async (t) => {
  t.equal(loadConfig(configSchema, { PORT: '' }).PORT, 8000)
})

t.test('windows that keep one time per entry refuse limits over 1000', async (t) => {
  const err = t.throws(() => loadConfig(configSchema, { SMS_DAILY_LIMIT_PER_MOBILE: '1001', VERIFY_MAX_FAILURES_PER_DAY: '5000' })) as Error
  t.match(err.message, /SMS_DAILY_LIMIT_PER_MOBILE/)
  t.match(err.message, /VERIFY_MAX_FAILURES_PER_DAY/)
  t.equal(loadConfig(configSchema, { SMS_DAILY_LIMIT_PER_MOBILE: '1000' }).SMS_DAILY_LIMIT_PER_MOBILE, 1000)
})
