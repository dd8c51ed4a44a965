import type { SendOutcome } from '../provider.js'
import { windowEnd, type CarrierWindow } from './carrier-window.js'

type Failure = Exclude<SendOutcome, { kind: 'accepted' }>
/**
 * `vendor`: our Aliyun account, sign, template or request to Aliyun is at
 * fault; another provider is unaffected, so fail over. `credentials`: the
 * AccessKey is wrong; fail over too, but with Aliyun alone nothing can ever
 * succeed, so it fails for good at once (as Tencent's AuthFailure does).
 */
type Class = 'vendor' | 'credentials' | 'permanent' | 'business_limit'

/**
 * Dysmsapi 2017-05-25 codes. Sources: Aliyun's SMS API error-code page
 * (help.aliyun.com document 101346), the SendSms page, and the OpenAPI
 * gateway's common errors (InvalidAccessKeyId.NotFound is HTTP 404,
 * SignatureDoesNotMatch 400, Throttling.* 400/503, 5xx). Business codes come
 * back with HTTP 200 and `Code` other than `OK`; gateway codes as HTTP 4xx/5xx.
 * The comments are the docs' wording, shortened.
 *
 * Only a refusal of the number (or of what we asked, which no vendor would
 * take) is permanent. Everything that is about our Aliyun setup is the
 * vendor's (the contract: balance, account, sign, template, AccessKey,
 * throttling, 5xx): another provider has its own sign and templates.
 */
const CODES: Record<string, Class> = {
  // ---- the carrier's per-number frequency limit (window from the message, see businessLimitWindow)
  // 业务限流 / 触发分钟级流控Permits:1 / 触发小时级流控Permits:5 / 触发天级流控Permits:10
  'isv.BUSINESS_LIMIT_CONTROL': 'business_limit',

  // ---- the number
  // 非法手机号
  'isv.MOBILE_NUMBER_ILLEGAL': 'permanent',
  // 手机号码数量超过限制 (more than 1000 in one SendSms)
  'isv.MOBILE_COUNT_OVER_LIMIT': 'permanent',
  // 参数异常
  'isv.INVALID_PARAMETERS': 'permanent',
  // 缺少参数 (gateway: a required parameter such as PhoneNumbers is missing)
  MissingPhoneNumbers: 'permanent',

  // ---- our Aliyun account
  // 账户余额不足 / 业务停机 (余额不足) / 账户异常 / 账户不存在
  'isv.AMOUNT_NOT_ENOUGH': 'vendor',
  'isv.OUT_OF_SERVICE': 'vendor',
  'isv.ACCOUNT_ABNORMAL': 'vendor',
  'isv.ACCOUNT_NOT_EXISTS': 'vendor',
  // 未开通云通信产品的阿里云客户 / 产品未开通 / RAM权限不足
  'isv.PRODUCT_UN_SUBSCRIPT': 'vendor',
  'isv.PRODUCT_UNSUBSCRIBE': 'vendor',
  'isp.RAM_PERMISSION_DENY': 'vendor',
  // 触发日发送限额 / 触发月发送限额 (our console's account-wide quotas)
  'isv.DAY_LIMIT_CONTROL': 'vendor',
  'isv.MONTH_LIMIT_CONTROL': 'vendor',
  // 源IP地址所在的地区被禁用
  'isv.DENY_IP_RANGE': 'vendor',

  // ---- our sign and templates at Aliyun
  // 短信签名不合法 / 签名禁止使用 / 签名状态为"不可用" / 签名和模板类型不一致
  'isv.SMS_SIGNATURE_ILLEGAL': 'vendor',
  'isv.SMS_SIGN_ILLEGAL': 'vendor',
  'isv.SIGN_STATE_ILLEGAL': 'vendor',
  'isv.SMS_SIGNATURE_SCENE_ILLEGAL': 'vendor',
  // 短信模板不合法 / 模板缺少变量 / JSON参数不合法，只接受字符串值 / 参数超出长度限制 / 不支持URL
  'isv.SMS_TEMPLATE_ILLEGAL': 'vendor',
  'isv.TEMPLATE_MISSING_PARAMETERS': 'vendor',
  'isv.INVALID_JSON_PARAM': 'vendor',
  'isv.PARAM_LENGTH_LIMIT': 'vendor',
  'isv.PARAM_NOT_SUPPORT_URL': 'vendor',
  // 短信内容包含禁止发送内容 / 黑名单管控 (variable content Aliyun's rules block)
  'isv.SMS_CONTENT_ILLEGAL': 'vendor',
  'isv.BLACK_KEY_CONTROL_LIMIT': 'vendor',
  // 国际/港澳台消息模板不支持发送境内号码 (our template is of the wrong kind)
  'isv.DOMESTIC_NUMBER_NOT_SUPPORTED': 'vendor',
  // 扩展码使用错误
  'isv.EXTEND_CODE_ERROR': 'vendor',

  // ---- Aliyun's side
  // 系统错误
  'isp.SYSTEM_ERROR': 'vendor',
  InternalError: 'vendor',
  ServiceUnavailable: 'vendor',
  // the nonce was seen or our clock is off: the next call has a new nonce and date
  SignatureNonceUsed: 'vendor',
  'InvalidTimeStamp.Expired': 'vendor',

  // ---- our AccessKey
  'InvalidAccessKeyId.NotFound': 'credentials',
  'InvalidAccessKeyId.Inactive': 'credentials',
  SignatureDoesNotMatch: 'credentials',
  IncompleteSignature: 'credentials',
}

/** Families whose members are not all listed; the longest prefix decides. */
const PREFIXES: Array<[string, Class]> = [
  ['Throttling', 'vendor'],          // Throttling, Throttling.User, Throttling.Api …
  ['InvalidAccessKeyId', 'credentials'],
  ['isp.', 'vendor'],
]

export function aliyunClass(code: string): Class {
  const exact = CODES[code]
  if (exact !== undefined) return exact
  for (const [prefix, cls] of PREFIXES) if (code === prefix || code.startsWith(prefix.endsWith('.') ? prefix : `${prefix}.`)) return cls
  // An unknown code is most likely new: let the queue retry (and fail over) rather than drop the code.
  return 'vendor'
}

/**
 * isv.BUSINESS_LIMIT_CONTROL names its window in the message (触发分钟级流控,
 * 触发小时级流控, 触发天级流控); without one, the shortest window (a minute).
 */
export function businessLimitWindow(message: string): CarrierWindow {
  if (/天级|daily|day/i.test(message)) return 'day'
  if (/小时级|hour/i.test(message)) return { seconds: 3600 }
  return { seconds: 60 }
}

/** `alone`: Aliyun is the only provider in SMS_PROVIDER (a wrong AccessKey is then final). */
export function classifyAliyun(code: string, message: string, now: number, alone: boolean): Failure {
  const cls = aliyunClass(code)
  const error = message ? `${code}: ${message}` : code
  switch (cls) {
    case 'permanent': return { kind: 'permanent', error }
    case 'vendor': return { kind: 'transient', error }
    case 'credentials': return { kind: alone ? 'permanent' : 'transient', error }
    case 'business_limit': return { kind: 'carrier_limit', error, blockedUntil: windowEnd(businessLimitWindow(message), now) }
  }
}
