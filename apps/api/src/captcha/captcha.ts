import type { FastifyBaseLogger } from 'fastify'
import type { Config } from '@sms-verify/shared'

export type CaptchaProvider = NonNullable<Config['CAPTCHA_PROVIDER']>

/** ok: a person solved it; failed: the provider said no; unavailable: no usable answer in time (fail closed). */
export type CaptchaOutcome = 'ok' | 'failed' | 'unavailable'

export interface CaptchaAnswer {
  /** the widget's token (Tencent: the ticket) */
  readonly token: string
  /** Tencent only: the randstr handed out with the ticket */
  readonly randstr?: string | undefined
  /** the client address the provider checks the token against */
  readonly remoteIp: string
}

/** One captcha provider's server-side check. */
export interface Captcha {
  readonly provider: CaptchaProvider
  /** Tencent's check needs the randstr beside the ticket */
  readonly needsRandstr: boolean
  verify(answer: CaptchaAnswer, log: FastifyBaseLogger): Promise<CaptchaOutcome>
}

/** CONTRACT.md: a provider that has not answered within 3 s is unavailable, and the send refused. */
export const CAPTCHA_TIMEOUT_MS = 3000
