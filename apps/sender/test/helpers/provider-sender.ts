import { spawn } from 'node:child_process'
import { FAKE_ALIYUN, FAKE_RONGLIAN, FAKE_TENCENT, freePort, repoRoot, runNode, type RunningProcess } from '@sms-verify/testing'

/** The provider variables of a sender that talks to the fakes (the same templates as helpers/provider-fakes.ts). */
export function fakeProviderEnv(o: { tencent?: string, ronglian?: string, aliyun?: string }): Record<string, string> {
  return {
    ...(o.tencent === undefined ? {} : {
      TENCENT_SECRET_ID: FAKE_TENCENT.secretId,
      TENCENT_SECRET_KEY: FAKE_TENCENT.secretKey,
      TENCENT_SMS_SDK_APP_ID: FAKE_TENCENT.smsSdkAppId,
      TENCENT_SMS_SIGN: '腾讯云',
      TENCENT_SMS_TEMPLATES: 'register=707336,login=727055,reset_password=737001',
      TENCENT_SMS_ENDPOINT: o.tencent,
    }),
    ...(o.ronglian === undefined ? {} : {
      RONGLIAN_ACCOUNT_SID: FAKE_RONGLIAN.accountSid,
      RONGLIAN_AUTH_TOKEN: FAKE_RONGLIAN.authToken,
      RONGLIAN_APP_ID: FAKE_RONGLIAN.appId,
      RONGLIAN_TEMPLATES: 'register=1,login=2,reset_password=3',
      RONGLIAN_BASE_URL: o.ronglian,
    }),
    ...(o.aliyun === undefined ? {} : {
      ALIYUN_ACCESS_KEY_ID: FAKE_ALIYUN.accessKeyId,
      ALIYUN_ACCESS_KEY_SECRET: FAKE_ALIYUN.accessKeySecret,
      ALIYUN_SMS_SIGN_NAME: FAKE_ALIYUN.signName,
      ALIYUN_SMS_TEMPLATES: 'register=SMS_100001,login=SMS_100002,reset_password=SMS_100003',
      ALIYUN_SMS_ENDPOINT: o.aliyun,
    }),
  }
}

/**
 * A real sender process (the built dist) with the real Tencent / Ronglian
 * adapters, ready when it logs 'sender started'. Kill it in teardown.
 */
export async function startProviderSender(env: Record<string, string>): Promise<RunningProcess> {
  const proc = runNode('apps/sender/dist/main.js', {
    METRICS_PORT: String(await freePort()),
    LOG_LEVEL: 'info',
    SENDER_BLOCK_MS: '100',
    PROVIDER_TIMEOUT_MS: '3000',
    ...env,
  })
  await proc.waitForLine((l) => l.msg === 'sender started', 15_000)
  return proc
}

/** Runs the sender to its exit with stdout and stderr apart, for startup refusals. */
export function runSenderToExit(env: Record<string, string>, timeoutMs = 15_000): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['apps/sender/dist/main.js'], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString('utf8') })
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8') })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`sender did not exit within ${timeoutMs} ms; stderr so far: ${stderr}`)) }, timeoutMs)
    child.once('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}
