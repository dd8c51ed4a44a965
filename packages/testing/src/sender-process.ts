import { FAKE_ALIYUN } from './fake-aliyun.js'
import { FAKE_RONGLIAN } from './fake-ronglian.js'
import { FAKE_TENCENT } from './fake-tencent.js'
import { freePort } from './free-port.js'
import { runNode, type RunningProcess } from './process.js'
import { stringEnv, type TestEnv } from './test-env.js'

/**
 * A real sender process (the built apps/sender/dist/main.js), ready when it logs 'sender started'
 * and killed when it does not get there. Its provider comes from `env`: SMS_PROVIDER (with
 * fakeProviderEnv) or SENDER_TEST_PROVIDER_MODULE (testProviderModule). Short blocking reads,
 * so it stops promptly, and a metrics port of its own unless `env` sets them. Kill it in teardown.
 */
export async function startSenderProcess(env: TestEnv, readyTimeout = 30_000): Promise<RunningProcess> {
  const proc = runNode('apps/sender/dist/main.js', {
    METRICS_PORT: String(await freePort()),
    LOG_LEVEL: 'info',
    SENDER_BLOCK_MS: '200',
    ...stringEnv(env),
  })
  try {
    await proc.waitForLine((l) => l.msg === 'sender started', readyTimeout)
  } catch (err) {
    await proc.kill('SIGKILL')
    throw err
  }
  return proc
}

export type FakeProvider = 'tencent' | 'ronglian' | 'aliyun'

/** Each fake's credentials and templates, the ones it checks. */
const fakeCredentials: Record<FakeProvider, Record<string, string>> = {
  tencent: {
    TENCENT_SECRET_ID: FAKE_TENCENT.secretId,
    TENCENT_SECRET_KEY: FAKE_TENCENT.secretKey,
    TENCENT_SMS_SDK_APP_ID: FAKE_TENCENT.smsSdkAppId,
    TENCENT_SMS_SIGN: '腾讯云',
    TENCENT_SMS_TEMPLATES: 'register=707336,login=727055,reset_password=737001',
  },
  ronglian: {
    RONGLIAN_ACCOUNT_SID: FAKE_RONGLIAN.accountSid,
    RONGLIAN_AUTH_TOKEN: FAKE_RONGLIAN.authToken,
    RONGLIAN_APP_ID: FAKE_RONGLIAN.appId,
    RONGLIAN_TEMPLATES: 'register=1,login=2,reset_password=3',
  },
  aliyun: {
    ALIYUN_ACCESS_KEY_ID: FAKE_ALIYUN.accessKeyId,
    ALIYUN_ACCESS_KEY_SECRET: FAKE_ALIYUN.accessKeySecret,
    ALIYUN_SMS_SIGN_NAME: FAKE_ALIYUN.signName,
    ALIYUN_SMS_TEMPLATES: 'register=SMS_100001,login=SMS_100002,reset_password=SMS_100003',
  },
}

const endpointVariable: Record<FakeProvider, string> = {
  tencent: 'TENCENT_SMS_ENDPOINT',
  ronglian: 'RONGLIAN_BASE_URL',
  aliyun: 'ALIYUN_SMS_ENDPOINT',
}

/**
 * The provider variables of a sender that talks to the fakes: for each provider given, its
 * credentials, templates and endpoint (`null`: the credentials without an endpoint, for a
 * config that never calls out), nothing for the providers left out; and a provider deadline
 * of 3 s, well under the fakes' stalls.
 */
export function fakeProviderEnv(endpoints: Partial<Record<FakeProvider, string | null>>): Record<string, string> {
  const env: Record<string, string> = { PROVIDER_TIMEOUT_MS: '3000' }
  for (const [name, endpoint] of Object.entries(endpoints) as Array<[FakeProvider, string | null | undefined]>) {
    if (endpoint === undefined) continue
    Object.assign(env, fakeCredentials[name], endpoint === null ? {} : { [endpointVariable[name]]: endpoint })
  }
  return env
}
