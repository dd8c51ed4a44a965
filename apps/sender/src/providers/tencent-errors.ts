import type { SendOutcome } from '../provider.js'
import { windowEnd, type CarrierWindow } from './carrier-window.js'

type Failure = Exclude<SendOutcome, { kind: 'accepted' }>
type Class = 'transient' | 'permanent' | CarrierWindow

/**
 * Tencent Cloud SMS 2021-01-11 codes. Sources, checked against each other:
 * the SendSms page's error list (https://cloud.tencent.com/document/api/382/55981),
 * the SMS error-code page (https://cloud.tencent.com/document/api/382/59177),
 * the common error codes (https://cloud.tencent.com/document/api/382/38780) and
 * the SDK's list of codes SendSms may return (tencentcloud-sdk-go
 * sms/v20210111 errors.go and client.go). The comments are the docs' wording,
 * shortened; codes are spelt exactly as Tencent spells them, typos included
 * (`SerivceSuspendDueToArrears`, `UnsuportedRegion`). The same code can come
 * as the API-level `Error.Code` or as one number's `SendStatusSet[].Code`.
 *
 * Account-wide problems that another provider does not share (balance, daily
 * quota of the app, throttling of our account) are transient so failover takes
 * the job; problems with the message itself, the number, the template, the
 * signature, our credentials or our request are permanent: retrying cannot fix
 * them. A per-number frequency limit is `carrier_limit` with its window.
 */
const CODES: Record<string, Class> = {
  // ---- the carrier refuses this number for now (not retried; the API mirrors the block)
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

  // ---- our account's quotas and throttling: another provider can still send
  // 超过配额限制
  LimitExceeded: 'transient',
  // 请求的次数超过了频率限制 (and its .UinLimitExceeded / .IPLimitExceeded / .GlobalRegionUinLimitExceeded members)
  RequestLimitExceeded: 'transient',
  // 业务短信日下发条数超过设定的上限
  'LimitExceeded.AppDailyLimit': 'transient',
  // 业务短信国际/港澳台日下发条数超过设定的上限
  'LimitExceeded.AppGlobalDailyLimit': 'transient',
  // 业务短信中国大陆日下发条数超过设定的上限
  'LimitExceeded.AppMainlandChinaDailyLimit': 'transient',
  // 业务短信国家/地区日下发条数超过设定的上限
  'LimitExceeded.AppCountryOrRegionDailyLimit': 'transient',
  // 短信日下发条数超过设定的上限 (国际/港澳台)
  'LimitExceeded.DailyLimit': 'transient',
  // 业务短信国家/地区不在国际港澳台短信发送限制设置的列表中而禁发
  'LimitExceeded.AppCountryOrRegionInBlacklist': 'permanent',
  // 调用接口单次提交的手机号个数超过200个
  'LimitExceeded.PhoneNumberCountLimit': 'permanent',
  // 套餐包余量不足
  'FailedOperation.InsufficientBalanceInSmsPackage': 'transient',
  // 欠费被停止服务 (Tencent's spelling, and the corrected one should they fix it)
  'UnauthorizedOperation.SerivceSuspendDueToArrears': 'transient',
  'UnauthorizedOperation.ServiceSuspendDueToArrears': 'transient',

  // ---- Tencent's side failed or timed out
  // 内部错误
  InternalError: 'transient',
  // 请求下发短信超时
  'InternalError.Timeout': 'transient',
  // 接口超时或短信收发包超时
  'InternalError.SendAndRecvFail': 'transient',
  // 其他错误，请联系腾讯云短信小助手并提供失败手机号 / 未知错误类型
  'InternalError.OtherError': 'transient',
  'InternalError.UnknownError': 'transient',
  // 解析运营商包体失败
  'InternalError.ParseBackendResponseFail': 'transient',
  // 解析用户参数失败
  'InternalError.JsonParseFail': 'transient',
  // 请求发起时间不正常 (our clock): another provider is unaffected
  'InternalError.RequestTimeException': 'transient',
  // 后端校验 Sig 失败 / 后端包体中请求包体没有 Sig 字段或 Sig 为空
  'InternalError.SigVerificationFail': 'permanent',
  'InternalError.SigFieldMissing': 'permanent',
  // 不存在该 RESTAPI 接口
  'InternalError.RestApiInterfaceNotExist': 'permanent',
  // 请求超时 / 当前服务暂时不可用 / 资源不可用 / 资源不足 (common errors)
  RequestTimeout: 'transient',
  ServiceUnavailable: 'transient',
  ResourceUnavailable: 'transient',
  ResourceInsufficient: 'transient',

  // ---- the template, the signature, the content
  // 签名未审批或格式错误
  'FailedOperation.SignatureIncorrectOrUnapproved': 'permanent',
  // 模板未审批或内容不匹配
  'FailedOperation.TemplateIncorrectOrUnapproved': 'permanent',
  // 模板未审批或不存在
  'FailedOperation.TemplateUnapprovedOrNotExist': 'permanent',
  // 请求内容与审核通过的模板内容不匹配
  'FailedOperation.TemplateParamSetNotMatchApprovedTemplate': 'permanent',
  // 模板 ID 不存在
  'FailedOperation.TemplateIdNotExist': 'permanent',
  // 没有申请签名之前，无法申请模板
  'FailedOperation.MissingSignature': 'permanent',
  // 短信内容中含有敏感词
  'FailedOperation.ContainSensitiveWord': 'permanent',
  // 请求包解析失败 / 解析请求包体时候失败
  'FailedOperation.FailResolvePacket': 'permanent',
  'FailedOperation.JsonParseFail': 'permanent',
  // 营销短信发送时间限制
  'FailedOperation.MarketingSendTimeConstraint': 'permanent',
  // 其他错误，一般是由于参数携带不符合要求导致 / 未知错误
  'FailedOperation.OtherError': 'permanent',
  'FailedOperation.ParametersOtherError': 'permanent',
  // 操作失败
  FailedOperation: 'permanent',

  // ---- the number
  // 手机号在免打扰名单库中
  'FailedOperation.PhoneNumberInBlacklist': 'permanent',
  // 号码解析失败，请检查号码是否符合 E.164 标准
  'FailedOperation.PhoneNumberParseFail': 'permanent',
  // 手机号格式错误
  'InvalidParameterValue.IncorrectPhoneNumber': 'permanent',
  // 传入的号码列表为空
  'MissingParameter.EmptyPhoneNumberSet': 'permanent',

  // ---- request parameters
  // 请求的短信内容太长
  'InvalidParameterValue.ContentLengthLimit': 'permanent',
  // 禁止在模板变量中使用 URL
  'InvalidParameterValue.ProhibitedUseUrlInTemplateParameter': 'permanent',
  // SdkAppId 不存在
  'InvalidParameterValue.SdkAppIdNotExist': 'permanent',
  // 验证码模板参数格式错误，验证码类模板，模板变量只能传入0 - 6位（包括6位）纯数字
  'InvalidParameterValue.TemplateParameterFormatError': 'permanent',
  // 单个模板变量字符数超过12个
  'InvalidParameterValue.TemplateParameterLengthLimit': 'permanent',
  // 参数错误（包括参数格式、类型等错误） / 参数取值错误 / 缺少参数 / 未知参数错误 (common errors)
  InvalidParameter: 'permanent',
  InvalidParameterValue: 'permanent',
  MissingParameter: 'permanent',
  UnknownParameter: 'permanent',
  // 请求包超过限制大小 / 请求 body 的 multipart 格式错误
  RequestSizeLimitExceeded: 'permanent',
  InvalidRequest: 'permanent',

  // ---- our credentials and permissions
  // 个人用户没有发营销短信的权限 / 请求 IP 不在白名单中 / 请求没有权限 / 此 SdkAppId 禁止提供服务
  'UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny': 'permanent',
  'UnauthorizedOperation.RequestIpNotInWhitelist': 'permanent',
  'UnauthorizedOperation.RequestPermissionDeny': 'permanent',
  'UnauthorizedOperation.SdkAppIdIsDisabled': 'permanent',
  // SmsSdkAppId 校验失败，请检查 SmsSdkAppId 是否属于云API密钥的关联账户
  'UnauthorizedOperation.SmsSdkAppIdVerifyFail': 'permanent',
  // 未授权操作
  UnauthorizedOperation: 'permanent',
  // IP 地址在黑名单中 / IP 地址不在白名单中
  IpInBlacklist: 'permanent',
  IpNotInWhitelist: 'permanent',

  // ---- what we asked cannot be done
  // 群发请求里既有国内手机号也有国际手机号
  'UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber': 'permanent',
  // 国内短信模板不支持发送国际/港澳台手机号 / 国际/港澳台短信模板不支持发送国内手机号
  'UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone': 'permanent',
  'UnsupportedOperation.GlobalTemplateToChineseMainlandPhone': 'permanent',
  // 不支持该地区短信下发 (Tencent's spelling, and the corrected one)
  'UnsupportedOperation.UnsuportedRegion': 'permanent',
  'UnsupportedOperation.UnsupportedRegion': 'permanent',
  // 不支持该请求 / 操作不支持
  UnsupportedOperation: 'permanent',
  // 接口不支持所传地域 / 请求协议错误
  UnsupportedRegion: 'permanent',
  UnsupportedProtocol: 'permanent',
  // 接口已下线 / 接口不存在 / 接口版本不存在 / 产品不存在 / 资源不存在
  ActionOffline: 'permanent',
  InvalidAction: 'permanent',
  NoSuchVersion: 'permanent',
  NoSuchProduct: 'permanent',
  ResourceNotFound: 'permanent',
}

/**
 * Families whose members are not all listed: the longest matching prefix
 * decides. A code matches a prefix when it equals it or continues with `.`;
 * a prefix ending in `*` matches any continuation (`LimitExceeded.PhoneNumber*`
 * takes a new `LimitExceeded.PhoneNumberTenMinuteLimit`).
 */
const PREFIXES: Array<[string, Class]> = [
  ['AuthFailure', 'permanent'],             // 签名错误, 密钥不存在, 签名过期, 请求未授权 …
  ['InternalError', 'transient'],
  ['RequestLimitExceeded', 'transient'],
  ['UnsupportedOperation', 'permanent'],
  ['UnauthorizedOperation', 'permanent'],
  ['InvalidParameter', 'permanent'],
  ['InvalidParameterValue', 'permanent'],   // 参数取值错误: every member is about what we sent
  ['UnknownParameter', 'permanent'],        // 未知参数错误: we sent a parameter that does not exist
  ['MissingParameter', 'permanent'],
  ['FailedOperation', 'permanent'],
  ['ResourceNotFound', 'permanent'],
  ['ResourceUnavailable', 'transient'],
  ['ResourceInsufficient', 'transient'],
  ['LimitExceeded.PhoneNumber*', { seconds: 60 }],  // a per-number limit we do not know: the shortest window
  ['LimitExceeded', 'transient'],
]

/** Longest prefix first, so `LimitExceeded.PhoneNumber…` wins over `LimitExceeded`. */
const BY_LENGTH = [...PREFIXES].sort(([a], [b]) => b.length - a.length)

export function tencentClass(code: string): Class {
  const exact = CODES[code]
  if (exact !== undefined) return exact
  for (const [prefix, cls] of BY_LENGTH) {
    const matches = prefix.endsWith('*') ? code.startsWith(prefix.slice(0, -1)) : code === prefix || code.startsWith(`${prefix}.`)
    if (matches) return cls
  }
  // An unknown code is most likely new: let the queue retry (and fail over) rather than drop the code.
  return 'transient'
}

export function classifyTencent(code: string, message: string, now: number): Failure {
  const cls = tencentClass(code)
  const error = message ? `${code}: ${message}` : code
  if (cls === 'transient' || cls === 'permanent') return { kind: cls, error }
  return { kind: 'carrier_limit', error, blockedUntil: windowEnd(cls, now) }
}
