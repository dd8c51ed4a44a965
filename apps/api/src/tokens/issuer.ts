import { SignJWT } from 'jose'
import type { Config, E164, Purpose } from '@sms-verify/shared'
import type { TokenKeys } from './keys.js'

export interface VerifiedCode {
  readonly mobile: E164
  readonly purpose: Purpose
  /** the request id of the verified code: the token's jti */
  readonly requestId: string
}

export type TokenIssuer = (verified: VerifiedCode) => Promise<string>

type TokenConfig = Pick<Config, 'VERIFICATION_TOKEN_ISSUER' | 'VERIFICATION_TOKEN_AUDIENCE' | 'VERIFICATION_TOKEN_TTL_SECONDS'>

/** Signs the JWT a successful verify hands back (claims as CONTRACT.md lists them). */
export function createTokenIssuer(keys: TokenKeys, config: TokenConfig, now: () => number): TokenIssuer {
  const { key, alg, kid } = keys.signing
  return async ({ mobile, purpose, requestId }) => {
    const iat = Math.floor(now() / 1000)
    const jwt = new SignJWT({ purpose })
      .setProtectedHeader({ alg, kid, typ: 'JWT' })
      .setIssuer(config.VERIFICATION_TOKEN_ISSUER)
      .setSubject(mobile)
      .setIssuedAt(iat)
      .setExpirationTime(iat + config.VERIFICATION_TOKEN_TTL_SECONDS)
      .setJti(requestId)
    if (config.VERIFICATION_TOKEN_AUDIENCE !== undefined) jwt.setAudience(config.VERIFICATION_TOKEN_AUDIENCE)
    return jwt.sign(key)
  }
}
