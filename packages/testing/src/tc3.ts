import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

export interface Tc3Expectation {
  readonly secretId: string
  readonly secretKey: string
  /** the credential scope's service: `sms`, `captcha` … */
  readonly service: string
  /** X-TC-Version the API exists in */
  readonly version: string
  /** largest clock skew accepted for X-TC-Timestamp, seconds (Tencent: 300) */
  readonly maxSkewSeconds: number
}

const sha256hex = (s: string | Buffer) => createHash('sha256').update(s).digest('hex')
const hmac = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s).digest()

/**
 * What Tencent Cloud's API gateway checks before any action runs: the
 * TC3-HMAC-SHA256 signature recomputed from the secret key, the SecretId, the
 * credential scope's service and date, the timestamp's freshness and the
 * version. Returns `[code, message]` of Tencent's error, or undefined when the
 * request may run.
 */
export function checkTc3(req: IncomingMessage, raw: Buffer, e: Tc3Expectation): [string, string] | undefined {
  const h = req.headers
  const auth = String(h.authorization ?? '')
  const m = /^TC3-HMAC-SHA256 Credential=([^/]+)\/(\d{4}-\d{2}-\d{2})\/([^/]+)\/tc3_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth)
  if (!m) return ['AuthFailure.InvalidAuthorization', 'Authorization is not in the TC3-HMAC-SHA256 format']
  const [, id, date, service, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string]
  if (id !== e.secretId) return ['AuthFailure.SecretIdNotFound', 'the SecretId does not exist']
  const timestamp = Number(h['x-tc-timestamp'])
  if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > e.maxSkewSeconds) return ['AuthFailure.SignatureExpire', 'signature expired']
  if (new Date(timestamp * 1000).toISOString().slice(0, 10) !== date) return ['AuthFailure.SignatureFailure', 'credential date does not match X-TC-Timestamp']
  if (service !== e.service) return ['AuthFailure.SignatureFailure', `credential scope names service ${service}, not ${e.service}`]
  if (signedHeaders !== 'content-type;host') return ['AuthFailure.SignatureFailure', 'SignedHeaders must be content-type;host']
  const hostname = String(h.host ?? '').replace(/:\d+$/, '')
  const url = new URL(req.url ?? '/', 'http://x')
  const canonical = [req.method ?? 'POST', url.pathname, url.search.slice(1),
    `content-type:${String(h['content-type'] ?? '')}\nhost:${hostname}\n`, signedHeaders, sha256hex(raw)].join('\n')
  const stringToSign = ['TC3-HMAC-SHA256', String(timestamp), `${date}/${e.service}/tc3_request`, sha256hex(canonical)].join('\n')
  const key = hmac(hmac(hmac(`TC3${e.secretKey}`, date), e.service), 'tc3_request')
  const expected = Buffer.from(createHmac('sha256', key).update(stringToSign).digest('hex'))
  if (!timingSafeEqual(expected, Buffer.from(signature))) return ['AuthFailure.SignatureFailure', 'the provided credentials could not be validated']
  if (h['x-tc-version'] !== e.version) return ['NoSuchVersion', `version ${String(h['x-tc-version'])} does not exist`]
  return undefined
}
