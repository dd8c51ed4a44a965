import dysmsapi from '@alicloud/dysmsapi20170525'
import { $OpenApiUtil } from '@alicloud/openapi-core'
import { RuntimeOptions } from '@darabonba/typescript'

/**
 * The official Aliyun SDK, behind a dynamic import (aliyun.ts): loading it
 * (darabonba, openapi-core, 250 model files) takes about a second, several
 * under load, which no sender without Aliyun in SMS_PROVIDER should pay, nor
 * a startup refused for a missing variable.
 */
export const { SendSmsRequest, QuerySendDetailsRequest } = dysmsapi
export type AliyunSmsClient = InstanceType<typeof dysmsapi.default>

export interface AliyunClientOptions {
  readonly accessKeyId: string
  readonly accessKeySecret: string
  /** host[:port] */
  readonly endpoint: string
  readonly protocol: 'http' | 'https'
  readonly timeoutMs: number
}

export function createAliyunClient(o: AliyunClientOptions): { client: AliyunSmsClient, runtime: RuntimeOptions } {
  const client = new dysmsapi.default(new $OpenApiUtil.Config({
    accessKeyId: o.accessKeyId,
    accessKeySecret: o.accessKeySecret,
    endpoint: o.endpoint,
    protocol: o.protocol,
    // ms; the SDK's defaults are 5 s and 10 s. The sender's signal is the real deadline.
    connectTimeout: o.timeoutMs,
    readTimeout: o.timeoutMs,
  }))
  // Without Config.retryOptions the SDK makes one attempt: the queue retries.
  return { client, runtime: new RuntimeOptions({}) }
}
