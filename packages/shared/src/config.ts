import { Type, type Static, type StaticDecode, type TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { PURPOSES, type Purpose } from './purpose.js'
import { decodeTrustProxy, encodeTrustProxy, TRUST_PROXY_FORMAT } from './trust-proxy.js'

/** A comma list in the environment; blanks dropped, entries trimmed. */
const CommaList = (opts: { default: string, description: string }) =>
  Type.Transform(Type.String(opts))
    .Decode((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .Encode((a) => a.join(','))

const Int = (opts: { default?: number, minimum?: number, maximum?: number, description: string }) =>
  Type.Integer({ minimum: 0, ...opts })

const OptionalString = (description: string) => Type.Optional(Type.String({ minLength: 1, description }))

/** `register=707336,login=727055` → `{ register: '707336', login: '727055' }` */
const PurposeMap = (description: string) =>
  Type.Transform(Type.String({ default: '', description, pattern: '^([a-z_]+=[^,=]+)?(,[a-z_]+=[^,=]+)*$' }))
    .Decode((s): Partial<Record<Purpose, string>> =>
      Object.fromEntries(s.split(',').filter(Boolean).map((pair) => pair.split('=').map((x) => x.trim()) as [string, string])))
    .Encode((m) => Object.entries(m).map(([k, v]) => `${k}=${v}`).join(','))

/** `+8613800000000=123456,…` → Map of E.164 number to fixed code. */
const TestNumbers = Type.Transform(Type.String({ default: '', pattern: '^(\\+\\d{6,15}=\\d{4,10})?(,\\+\\d{6,15}=\\d{4,10})*$', description: 'numbers with a fixed code that never reach a provider' }))
  .Decode((s) => new Map(s.split(',').filter(Boolean).map((pair) => pair.split('=') as [string, string])))
  .Encode((m) => [...m].map(([k, v]) => `${k}=${v}`).join(','))

const PROVIDER_NAMES = '(console|tencent|ronglian|aliyun)'
const Providers = Type.Transform(Type.String({ default: 'console', pattern: `^${PROVIDER_NAMES}(,${PROVIDER_NAMES})*$`, description: 'provider failover order' }))
  .Decode((s) => [...new Set(s.split(','))] as ProviderName[])
  .Encode((a) => a.join(','))

export type ProviderName = 'console' | 'tencent' | 'ronglian' | 'aliyun'

/** Every environment variable of CONTRACT.md, for both processes. */
export const configSchema = Type.Object({
  NODE_ENV: Type.String({ default: 'development', description: '`production` turns on the production safety checks' }),
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379/0', pattern: '^rediss?://', description: 'Redis for codes, limits and the stream' }),
  REDIS_CLUSTER_NODES: CommaList({ default: '', description: 'host:port seeds; when set, Redis Cluster mode' }),
  STREAM_PARTITIONS: Type.Optional(Int({ minimum: 1, maximum: 1024, description: 'streams the jobs are spread over' })),
  REDIS_WAIT_REPLICAS: Int({ default: 0, maximum: 16, description: 'replicas that must hold a send before 202' }),
  REDIS_WAIT_TIMEOUT_MS: Int({ default: 200, minimum: 1, description: 'WAIT timeout' }),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1, description: 'API listen address' }),
  PORT: Int({ default: 8000, maximum: 65535, description: 'API port' }),
  TRUST_PROXY: Type.Optional(Type.Transform(Type.String({ format: TRUST_PROXY_FORMAT, description: 'proxy hops, or proxy IPs/CIDRs, whose X-Forwarded-For entries are believed' }))
    .Decode(decodeTrustProxy).Encode(encodeTrustProxy)),
  CORS_ORIGINS: CommaList({ default: 'http://127.0.0.1:8080,http://localhost:8080', description: 'allowed origins' }),
  ALLOWED_HOSTS: CommaList({ default: '127.0.0.1,localhost', description: 'accepted Host names; * for any' }),
  CODE_TTL_SECONDS: Int({ default: 300, minimum: 1, description: 'how long a code stays valid' }),
  RESEND_INTERVAL_SECONDS: Int({ default: 60, description: 'least time between two sends per number and purpose' }),
  SMS_PROVIDER: Providers,
  SENDER_CONCURRENCY: Int({ default: 32, minimum: 1, maximum: 10000, description: 'sends in flight per sender' }),
  METRICS_PORT: Int({ default: 9464, maximum: 65535, description: "sender's /metrics and /healthz" }),
  API_METRICS_PORT: Type.Optional(Int({ minimum: 1, maximum: 65535, description: "when set, the API's /metrics is served only there, not on PORT" })),
  METRICS_HOST: Type.String({ default: '127.0.0.1', minLength: 1, description: 'address the metrics listeners (sender, API_METRICS_PORT) bind to' }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info', description: 'pino level for both processes' }),
  SHUTDOWN_TIMEOUT_MS: Int({ default: 10000, description: 'longest wait for in-flight work on SIGTERM' }),
  SEND_MAX_ATTEMPTS: Int({ default: 5, minimum: 1, maximum: 100, description: 'provider calls per job before dead-lettering' }),
  SEND_BACKOFF_BASE_MS: Int({ default: 1000, description: 'first retry delay (full jitter)' }),
  SEND_BACKOFF_CAP_MS: Int({ default: 60000, description: 'longest retry delay' }),
  PROVIDER_TIMEOUT_MS: Int({ default: 5000, minimum: 1, description: 'longest single provider call' }),
  SENDER_CIRCUIT_THRESHOLD: Int({ default: 5, minimum: 1, description: 'transient failures that open a circuit' }),
  SENDER_CIRCUIT_COOLDOWN_MS: Int({ default: 30000, description: 'wait before a circuit half-opens' }),
  SENDER_CLAIM_IDLE_MS: Int({ default: 30000, minimum: 1, description: "idle time before a dead sender's jobs are taken over" }),
  SENDER_BLOCK_MS: Int({ default: 1000, minimum: 1, maximum: 60000, description: 'XREADGROUP BLOCK per read' }),
  STREAM_MAXLEN: Int({ default: 100000, minimum: 100, description: 'approximate stream length bound' }),
  VERIFY_MAX_ATTEMPTS: Int({ default: 5, minimum: 1, description: 'wrong tries before a code is burnt' }),
  // at most 1,000: these windows keep one time per entry in one string (lua/lib/recent-times.lua)
  VERIFY_MAX_FAILURES_PER_DAY: Int({ default: 20, minimum: 1, maximum: 1000, description: 'wrong tries per number and client address per rolling 24 h (at most 1000)' }),
  CODE_PEPPER: OptionalString('secret for the HMAC that stands for a code at rest'),
  JOB_SEAL_KEY: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9+/]{43}=$', description: '32 bytes, base64: AES-256-GCM key' })),
  SMS_DAILY_LIMIT_PER_MOBILE: Int({ default: 10, minimum: 1, maximum: 1000, description: 'accepted sends per number per rolling 24 h (at most 1000)' }),
  RATE_LIMIT_PER_MINUTE: Int({ default: 300, minimum: 1, description: 'requests per client IP per minute' }),
  SEND_LIMIT_PER_IP_PER_HOUR: Int({ default: 20, minimum: 1, description: 'accepted sends per client IP per hour' }),
  ALLOWED_REGIONS: CommaList({ default: 'CN', description: 'ISO regions a number may belong to' }),
  SMS_BUDGET_PER_MINUTE: Type.Optional(Int({ minimum: 1, description: 'global sends per minute' })),
  ADMIN_TOKEN: Type.Optional(Type.String({ minLength: 16, description: 'bearer token for bulk notifications' })),
  CODE_LENGTH: Int({ default: 6, minimum: 4, maximum: 10, description: 'digits per code' }),
  STATUS_TTL_SECONDS: Int({ default: 86400, minimum: 1, description: 'how long a status record outlives its code' }),
  TEST_NUMBERS: TestNumbers,
  CALLBACK_TOKEN: Type.Optional(Type.String({ minLength: 16, description: 'secret path segment of receipt routes' })),
  SENDER_RECEIPT_POLL_SECONDS: Type.Optional(Int({ minimum: 1, description: 'pull Tencent and Aliyun receipts at this interval' })),
  TENCENT_SECRET_ID: OptionalString('Tencent Cloud SecretId'),
  TENCENT_SECRET_KEY: OptionalString('Tencent Cloud SecretKey'),
  TENCENT_SMS_SDK_APP_ID: OptionalString('Tencent SmsSdkAppId'),
  TENCENT_SMS_SIGN: OptionalString('Tencent SignName'),
  TENCENT_SMS_REGION: Type.String({ default: 'ap-guangzhou', description: 'Tencent Cloud region' }),
  TENCENT_SMS_ENDPOINT: Type.String({ default: 'sms.tencentcloudapi.com', pattern: '^(https?://)?[A-Za-z0-9.-]+(:\\d+)?/?$', description: 'Tencent SMS endpoint; a full http://host:port is allowed' }),
  TENCENT_SMS_TEMPLATES: PurposeMap('purpose=templateId for Tencent'),
  RONGLIAN_ACCOUNT_SID: OptionalString('Ronglian account SID'),
  RONGLIAN_AUTH_TOKEN: OptionalString('Ronglian auth token'),
  RONGLIAN_APP_ID: OptionalString('Ronglian app id'),
  RONGLIAN_BASE_URL: Type.String({ default: 'https://app.cloopen.com:8883', pattern: '^https?://', description: 'Ronglian REST base URL' }),
  RONGLIAN_TEMPLATES: PurposeMap('purpose=templateId for Ronglian'),
  // Verification tokens (issue 16): the key is parsed and checked at startup by apps/api/src/tokens/keys.ts.
  VERIFICATION_TOKEN_KEY: OptionalString('PEM PKCS#8 private key, EC P-256 (ES256) or Ed25519 (EdDSA), signing verification tokens'),
  VERIFICATION_TOKEN_ISSUER: Type.String({ default: 'sms-verify', minLength: 1, description: 'iss of verification tokens' }),
  VERIFICATION_TOKEN_AUDIENCE: OptionalString('aud of verification tokens; omitted when unset'),
  VERIFICATION_TOKEN_TTL_SECONDS: Int({ default: 600, minimum: 1, maximum: 86400, description: 'lifetime of a verification token' }),
  VERIFICATION_TOKEN_PREVIOUS_PUBLIC_KEYS: OptionalString('PEM public keys, ;-separated, still served in the JWKS after a rotation'),
  // Captcha on sends (issue 16): which settings a provider needs is checked at startup by apps/api/src/captcha/create.ts.
  CAPTCHA_PROVIDER: Type.Optional(Type.Union([Type.Literal('turnstile'), Type.Literal('hcaptcha'), Type.Literal('tencent')], { description: 'captcha checked on sends; unset: off' })),
  CAPTCHA_SECRET: OptionalString('Turnstile / hCaptcha secret key'),
  CAPTCHA_VERIFY_URL: Type.Optional(Type.String({ pattern: '^https?://[^/\\s]+(/\\S*)?$', description: "overrides the captcha provider's verify endpoint" })),
  CAPTCHA_SITE_KEY: OptionalString('the widget site key the sign-up page renders'),
  TENCENT_CAPTCHA_APP_ID: Type.Optional(Int({ minimum: 1, description: 'Tencent Cloud Captcha CaptchaAppId' })),
  TENCENT_CAPTCHA_APP_SECRET_KEY: OptionalString('Tencent Cloud Captcha AppSecretKey'),
  ALIYUN_ACCESS_KEY_ID: OptionalString('Alibaba Cloud AccessKey ID'),
  ALIYUN_ACCESS_KEY_SECRET: OptionalString('Alibaba Cloud AccessKey secret'),
  ALIYUN_SMS_SIGN_NAME: OptionalString('Aliyun SMS SignName'),
  ALIYUN_SMS_ENDPOINT: Type.String({ default: 'dysmsapi.aliyuncs.com', pattern: '^(https?://)?[A-Za-z0-9.-]+(:\\d+)?/?$', description: 'Aliyun Dysmsapi endpoint; a full http://host:port is allowed' }),
  ALIYUN_SMS_TEMPLATES: PurposeMap('purpose=TemplateCode for Aliyun, e.g. register=SMS_123456'),
})

export type Config = StaticDecode<typeof configSchema>
export type ConfigInput = Static<typeof configSchema>

/**
 * Variables whose values never appear in an error line (it goes to stderr and
 * so to log collectors): a rule by name, so a variable added later is covered
 * without a list to keep up to date.
 */
const SECRET_NAME = /(^|_)(SECRET|KEY|KEYS|TOKEN|PEPPER|PASSWORD)(_|$)/
const SECRET_VALUES = new Set(['TEST_NUMBERS'])
export const isSecretVariable = (name: string): boolean => SECRET_NAME.test(name) || SECRET_VALUES.has(name)

/** `redis://user:pw@host` → `redis://user:***@host`; a URL without credentials is unchanged. */
export function withoutPassword(url: string): string {
  const at = url.lastIndexOf('@')
  if (at < 0) return url
  const start = url.indexOf('//') >= 0 && url.indexOf('//') < at ? url.indexOf('//') + 2 : 0
  const userinfo = url.slice(start, at)
  const colon = userinfo.indexOf(':')
  // no colon: the whole userinfo may be the password (`redis://secret@host`)
  const user = colon < 0 ? '' : userinfo.slice(0, colon + 1)
  return `${url.slice(0, start)}${user}***${url.slice(at)}`
}

/** How an invalid value is shown in the error line: secrets named only, URLs without their password. */
function shownValue(name: string, value: unknown): string {
  if (isSecretVariable(name)) return 'a value that is not shown'
  if (typeof value === 'string' && name.endsWith('_URL')) return JSON.stringify(withoutPassword(value))
  return JSON.stringify(value)
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/**
 * Defaults, conversion, check: one pass over the environment. Throws one
 * ConfigError whose message names every bad variable on a single line.
 */
export function loadConfig<S extends TSchema>(schema: S, env: Record<string, string | undefined>): Readonly<StaticDecode<S>> {
  const known = Object.keys((schema as unknown as { properties: object }).properties)
  // Empty strings mean unset, as in a shell `FOO= cmd`.
  const input: Record<string, unknown> = Object.fromEntries(
    known.filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]))
  const withDefaults = Value.Default(schema, Value.Convert(schema, input))
  const problems = [...Value.Errors(schema, withDefaults)].map((e) => {
    const name = e.path.slice(1).split('/')[0]!
    return `${name} ${e.message.toLowerCase()} (got ${shownValue(name, input[name])})`
  })
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${[...new Set(problems)].join('; ')}`)
  return Object.freeze(Value.Decode(schema, withDefaults) as StaticDecode<S>)
}

/** Derived facts every process needs, computed once from the config. */
export function clusterMode(config: Pick<Config, 'REDIS_CLUSTER_NODES'>): boolean {
  return config.REDIS_CLUSTER_NODES.length > 0
}

export function partitionCount(config: Pick<Config, 'REDIS_CLUSTER_NODES' | 'STREAM_PARTITIONS'>): number {
  return config.STREAM_PARTITIONS ?? (clusterMode(config) ? 16 : 1)
}

export { PURPOSES }
