import type { Server } from 'node:http'

export interface Served {
  readonly server: Server
  readonly port: number
  /** `http://host:port` */
  readonly url: string
  close(): Promise<void>
}

export interface CaptchaWidget {
  readonly provider: 'turnstile' | 'hcaptcha' | 'tencent'
  /** the widget's public site key (Tencent: the CaptchaAppId) */
  readonly siteKey: string
}

export function serveStatic(options?: { port?: number, host?: string, root?: string, api?: string, captcha?: CaptchaWidget }): Promise<Served>
