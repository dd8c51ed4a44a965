import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import { AbstractClient } from 'tencentcloud-sdk-nodejs-common'
import { endpointSignedAs } from '@sms-verify/shared'
import type { Captcha, CaptchaOutcome } from './captcha.js'
import { CAPTCHA_TIMEOUT_MS } from './captcha.js'

export const TENCENT_CAPTCHA_URL = 'https://captcha.tencentcloudapi.com/'
const SERVICE = 'captcha'
const API_VERSION = '2019-07-22'
/** DescribeCaptchaResult's CaptchaType: 9 is every current widget (slider, invisible …). */
const CAPTCHA_TYPE = 9
/** CaptchaCode 1 is a pass; 100 means our CaptchaAppId/AppSecretKey pair is wrong (not the person's fault). */
const PASS = 1
const WRONG_APP_SECRET = 100

export interface TencentCaptchaSettings {
  readonly secretId: string
  readonly secretKey: string
  readonly appId: number
  readonly appSecretKey: string
  /** CAPTCHA_VERIFY_URL or the public endpoint */
  readonly url?: string | undefined
}

interface DescribeCaptchaResultReply { CaptchaCode?: number, CaptchaMsg?: string }

/** Tencent Cloud Captcha `DescribeCaptchaResult` (API 2019-07-22) through the SDK's common client. */
export function createTencentCaptcha(s: TencentCaptchaSettings): Captcha {
  const url = new URL(s.url ?? TENCENT_CAPTCHA_URL)
  const protocol = url.protocol === 'http:' ? 'http://' : 'https://'
  // An explicit agent: keep-alive, and the SDK would otherwise route through $http_proxy.
  const agent = protocol === 'https://' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true })
  const client = new AbstractClient(endpointSignedAs(SERVICE, url.host), API_VERSION, {
    credential: { secretId: s.secretId, secretKey: s.secretKey },
    profile: { httpProfile: { protocol, reqMethod: 'POST', reqTimeout: CAPTCHA_TIMEOUT_MS / 1000, agent } },
  })
  client.path = url.pathname

  return {
    provider: 'tencent',
    needsRandstr: true,
    async verify({ token, randstr, remoteIp }, log): Promise<CaptchaOutcome> {
      let reply: DescribeCaptchaResultReply
      try {
        reply = await client.request('DescribeCaptchaResult', {
          CaptchaType: CAPTCHA_TYPE, Ticket: token, Randstr: randstr ?? '', UserIp: remoteIp,
          CaptchaAppId: s.appId, AppSecretKey: s.appSecretKey,
        }, { signal: AbortSignal.timeout(CAPTCHA_TIMEOUT_MS) }) as DescribeCaptchaResultReply
      } catch (err) {
        // API errors (AuthFailure…, a wrong SecretId/Key) and timeouts alike: no verdict on the person.
        const e = err as { code?: string, name?: string }
        log.warn({ provider: 'tencent', code: e.code, reason: e.name }, 'captcha provider did not answer')
        return 'unavailable'
      }
      if (reply.CaptchaCode === PASS) return 'ok'
      if (reply.CaptchaCode === WRONG_APP_SECRET) {
        log.error({ provider: 'tencent', captchaCode: reply.CaptchaCode }, 'captcha provider refused our request: check TENCENT_CAPTCHA_APP_ID and TENCENT_CAPTCHA_APP_SECRET_KEY')
        return 'unavailable'
      }
      return 'failed'
    },
  }
}
