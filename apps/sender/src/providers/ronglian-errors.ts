import type { SendOutcome } from '../provider.js'
import { windowEnd, type CarrierWindow } from './carrier-window.js'

type Failure = Exclude<SendOutcome, { kind: 'accepted' }>
type Class = 'transient' | 'permanent' | CarrierWindow

/**
 * Ronglian (cloopen) template-SMS status codes; `000000` is success. The
 * wording is the vendor's status-code list. Families: 1111xx are the REST
 * gateway's authentication and request checks, 1123xx the SMS request's
 * fields, 1600xx the message itself, 1720xx transport errors.
 */
const CODES: Record<string, Class> = {
  '160038': { seconds: 60 },   // 短信验证码发送过频繁
  '160039': 'day',             // 超出同模板同号天发送次数上限
  '160040': 'day',             // 验证码超出同模板同号码天发送上限
  '160041': 'day',             // 通知超出同模板同号码天发送上限
  '160031': 'permanent',       // 参数解析失败
  '160032': 'permanent',       // 短信模板无效
  '160033': 'permanent',       // 短信存在黑词
  '160034': 'permanent',       // 号码黑名单
  '160035': 'permanent',       // 短信下发内容为空
  '160036': 'permanent',       // 短信模板类型未知
  '160037': 'permanent',       // 短信内容长度限制
  '160042': 'permanent',       // 号码格式有误
  '160043': 'permanent',       // 应用与模板id不匹配
  '160050': 'transient',       // 短信发送失败
  '112300': 'permanent',       // 接收短信的手机号码为空
  '112302': 'transient',       // 群发短信已暂停
  '112303': 'permanent',       // 应用未开通短信功能
  '112305': 'permanent',       // 应用未上线，短信接收号码外呼受限
  '112306': 'permanent',       // 接收模板短信的手机号码为空
  '112307': 'permanent',       // 模板短信模板ID为空
  '112308': 'permanent',       // 模板短信模板data参数为空
  '112310': 'permanent',       // 应用未上线，模板短信接收号码外呼受限
  '112311': 'permanent',       // 短信模板不存在
  '112314': 'permanent',       // 短信群发号码数超过最大值
  '172001': 'transient',       // 网络错误
  '172002': 'transient',       // 无返回
  '172003': 'transient',       // 返回包体错误
}

const PREFIXES: Array<[string, Class]> = [
  ['1111', 'permanent'],       // Authorization / sig / account / appId checks
  ['1123', 'permanent'],
  ['1720', 'transient'],
]

export function ronglianClass(statusCode: string): Class {
  const exact = CODES[statusCode]
  if (exact !== undefined) return exact
  for (const [prefix, cls] of PREFIXES) if (statusCode.startsWith(prefix)) return cls
  // Unknown codes: let the queue retry and fail over rather than drop the code.
  return 'transient'
}

export function classifyRonglian(statusCode: string, statusMsg: string, now: number): Failure {
  const cls = ronglianClass(statusCode)
  const error = statusMsg ? `${statusCode}: ${statusMsg}` : statusCode
  if (cls === 'transient' || cls === 'permanent') return { kind: cls, error }
  return { kind: 'carrier_limit', error, blockedUntil: windowEnd(cls, now) }
}
