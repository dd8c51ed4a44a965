import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK } from 'jose'

export interface PemPair {
  readonly privatePem: string
  readonly publicPem: string
  readonly publicKey: KeyObject
  readonly privateKey: KeyObject
}

/** A fresh key pair as an operator would make it (`openssl genpkey`): PKCS#8 private, SPKI public. */
export function pemPair(kind: 'ES256' | 'EdDSA' | 'ES384' | 'RS256' | 'Ed448'): PemPair {
  const pair = kind === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : kind === 'ES384' ? generateKeyPairSync('ec', { namedCurve: 'P-384' })
      : kind === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : kind === 'Ed448' ? generateKeyPairSync('ed448') : generateKeyPairSync('ed25519')
  return {
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    publicKey: pair.publicKey,
    privateKey: pair.privateKey,
  }
}

/** RFC 7638 thumbprint, computed here independently of the app. */
export const thumbprint = async (key: KeyObject) => calculateJwkThumbprint(await exportJWK(key), 'sha256')

/** The base64 body of a PEM: what must never appear in an error line. */
export const pemBody = (pem: string) => pem.split('\n').filter((l) => l && !l.startsWith('-----')).join('')
