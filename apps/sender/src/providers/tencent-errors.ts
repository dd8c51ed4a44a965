import type { SendOutcome } from '../provider.js'
import { windowEnd, type CarrierWindow } from './carrier-window.js'

type Failure = Exclude<SendOutcome, { kind: 'accepted' }>
type Class = 'transient' | 'permanent' | CarrierWindow

/**
 * Tencent Cloud SMS 2021-01-11 codes, from its error-code pages (382/38780 and
 * 382/59177; the wording in the comments is the docs'). The same code can come
 * as the API-level `Error.Code` or as one number's `SendStatusSet[].Code`.
 *
 * Account-wide problems that another provider does not share (balance, daily
 * quota of the app) are transient so failover takes the job; problems with the
 * message itself, the number, the template, the signature or our credentials
 * are permanent: retrying cannot fix them.
 */
const CODES: Record<string, Class> = {
  // 单个手机号30秒内下发短信条数超过设定的上限
  'LimitExceeded.PhoneNumberThirtySecondLimit': { seconds: 30 },
  // 单个手机号1小时内下发短信条数超过设定的上限
  'LimitExceeded.PhoneNumberOneHourLimit': { seconds: 3600 },
  // 单个手机号日下发短信条数超过设定的上限
  'LimitExceeded.PhoneNumberDailyLimit': 'day',
  // 单个手机号下发相同内容超过设定的上限
  'LimitExceeded.PhoneNumberSameContentDailyLimit': 'day',
  // 下发短信命中了频率限制策略 (the console's per-number policy; its window is not stated, one minute is the shortest it allows)
  'LimitExceeded.DeliveryFrequencyLimit': { seconds: 60 },

  // 超过配额限制 / 请求的次数超过了频率限制: API throttling of our account
  LimitExceeded: 'transient',
  RequestLimitExceeded: 'transient',
  // 业务短信日下发条数超过设定的上限 (and its global / mainland variants)
  'LimitExceeded.AppDailyLimit': 'transient',
  'LimitExceeded.AppGlobalDailyLimit': 'transient',
  'LimitExceeded.AppMainlandChinaDailyLimit': 'transient',
  'LimitExceeded.DailyLimit': 'transient',
  // 调用接口单次提交的手机号个数超过200个
  'LimitExceeded.PhoneNumberCountLimit': 'permanent',

  // 内部错误
  InternalError: 'transient',
  // 请求下发短信超时
  'InternalError.Timeout': 'transient',
  // 接口超时或短信收发包超时
  'InternalError.SendAndRecvFail': 'transient',
  // 其他错误 / 未知错误
  'InternalError.OtherError': 'transient',
  'InternalError.UnknownError': 'transient',
  // 请求发起时间不正常 (our clock): another provider is unaffected
  'InternalError.RequestTimeException': 'transient',
  // 后端校验 Sig 失败 / 请求包体没有 Sig 字段
  'InternalError.SigVerificationFail': 'permanent',
  'InternalError.SigFieldMissing': 'permanent',
  // 不存在该 RESTAPI 接口
  'InternalError.RestApiInterfaceNotExist': 'permanent',
  // 请求超时 (common error)
  RequestTimeout: 'transient',
  // 服务暂时不可用 / 资源不足 (common errors)
  ServiceUnavailable: 'transient',
  ResourceUnavailable: 'transient',

  // 签名未审批或格式错误
  'FailedOperation.SignatureIncorrectOrUnapproved': 'permanent',
  // 模板未审批或内容不匹配
  'FailedOperation.TemplateIncorrectOrUnapproved': 'permanent',
  'FailedOperation.TemplateUnapprovedOrNotExist': 'permanent',
  'FailedOperation.TemplateParamSetNotMatchApprovedTemplate': 'permanent',
  'FailedOperation.MissingSignature': 'permanent',
  'FailedOperation.MissingTemplateToModify': 'permanent',
  // 短信内容中含有敏感词
  'FailedOperation.ContainSensitiveWord': 'permanent',
  // 请求包解析失败
  'FailedOperation.FailResolvePacket': 'permanent',
  'FailedOperation.JsonParseFail': 'permanent',
  // 手机号在免打扰名单库中
  'FailedOperation.PhoneNumberInBlacklist': 'permanent',
  'FailedOperation.PhoneNumberParseFail': 'permanent',
  // 营销短信发送时间限制
  'FailedOperation.MarketingSendTimeConstraint': 'permanent',
  // 套餐包余量不足: another provider can still send
  'FailedOperation.InsufficientBalanceInSmsPackage': 'transient',
  // 操作失败
  FailedOperation: 'permanent',

  // 手机号格式错误
  'InvalidParameterValue.IncorrectPhoneNumber': 'permanent',
  // 请求的短信内容太长
  'InvalidParameterValue.ContentLengthLimit': 'permanent',
  // 禁止在模板变量中使用 URL
  'InvalidParameterValue.ProhibitedUseUrlInTemplateParameter': 'permanent',
  // SdkAppId 不存在
  'InvalidParameterValue.SdkAppIdNotExist': 'permanent',
  // 验证码模板参数格式错误 / 单个模板变量字符数超过12个
  'InvalidParameterValue.TemplateParameterFormatError': 'permanent',
  'InvalidParameterValue.TemplateParameterLengthLimit': 'permanent',
  InvalidParameter: 'permanent',
  InvalidParameterValue: 'permanent',
  MissingParameter: 'permanent',
  'MissingParameter.EmptyPhoneNumberSet': 'permanent',

  // 个人用户没有发营销短信的权限 / 请求 IP 不在白名单中 / 请求没有权限 / SdkAppId 禁用
  'UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny': 'permanent',
  'UnauthorizedOperation.RequestIpNotInWhitelist': 'permanent',
  'UnauthorizedOperation.RequestPermissionDeny': 'permanent',
  'UnauthorizedOperation.SdkAppIdIsDisabled': 'permanent',
  // 欠费被停止服务: another provider can still send
  'UnauthorizedOperation.ServiceSuspendDueToArrears': 'transient',
  UnauthorizedOperation: 'permanent',

  // 群发请求里既有国内手机号也有国际手机号 / 不支持该地区短信下发
  'UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber': 'permanent',
  'UnsupportedOperation.UnsupportedRegion': 'permanent',
  UnsupportedOperation: 'permanent',
  // 接口已下线 / 接口不存在 / 接口版本不存在
  ActionOffline: 'permanent',
  InvalidAction: 'permanent',
  NoSuchVersion: 'permanent',
}

/** Families whose members are not all listed: the prefix decides. */
const PREFIXES: Array<[string, Class]> = [
  ['AuthFailure', 'permanent'],         // 签名错误, 密钥不存在, 签名过期, 请求未授权 …
  ['InternalError', 'transient'],
  ['RequestLimitExceeded', 'transient'],
  ['UnsupportedOperation', 'permanent'],
  ['UnauthorizedOperation', 'permanent'],
  ['InvalidParameter', 'permanent'],
  ['MissingParameter', 'permanent'],
  ['FailedOperation', 'permanent'],
  ['LimitExceeded.PhoneNumber', { seconds: 60 }],
  ['LimitExceeded', 'transient'],
]

export function tencentClass(code: string): Class {
  const exact = CODES[code]
  if (exact !== undefined) return exact
  for (const [prefix, cls] of PREFIXES) if (code === prefix || code.startsWith(`${prefix}.`)) return cls
  // An unknown code is most likely new: let the queue retry (and fail over) rather than drop the code.
  return 'transient'
}

export function classifyTencent(code: string, message: string, now: number): Failure {
  const cls = tencentClass(code)
  const error = message ? `${code}: ${message}` : code
  if (cls === 'transient' || cls === 'permanent') return { kind: cls, error }
  return { kind: 'carrier_limit', error, blockedUntil: windowEnd(cls, now) }
}
