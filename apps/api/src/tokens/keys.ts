import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose'
import { ConfigError, type Config } from '@sms-verify/shared'

export type TokenAlg = 'ES256' | 'EdDSA'

export interface SigningKey {
  readonly key: KeyObject
  readonly alg: TokenAlg
  /** RFC 7638 thumbprint of the public JWK */
  readonly kid: string
}

export interface TokenKeys {
  readonly signing: SigningKey
  /** the body of /.well-known/jwks.json: the current public key first, then the previous ones */
  readonly jwks: { readonly keys: readonly JWK[] }
}

const KEY_VAR = 'VERIFICATION_TOKEN_KEY'
const PREVIOUS_VAR = 'VERIFICATION_TOKEN_PREVIOUS_PUBLIC_KEYS'

/** Env files often carry a PEM on one line with literal `\n`s. */
const unescapePem = (pem: string) => pem.replace(/\\n/g, '\n').trim()

/** ES256 for EC P-256, EdDSA for Ed25519; undefined for any other key. */
function algOf(key: KeyObject): TokenAlg | undefined {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA'
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256'
  return undefined
}

/** A bad key names its variable and never shows the value: the line goes to stderr and so to log collectors. */
const refuse = (variable: string, what: string) =>
  new ConfigError(`invalid configuration: ${variable} ${what} (got a value that is not shown)`)

/** One PEM key of the given kind, EC P-256 or Ed25519, or a ConfigError naming `variable` that says `wanted`. */
function parseKey(text: string, kind: 'PRIVATE' | 'PUBLIC', variable: string, wanted: string): { key: KeyObject, alg: TokenAlg } {
  if (!text.startsWith(`-----BEGIN ${kind} KEY-----`)) throw refuse(variable, wanted)
  let key: KeyObject
  try {
    key = kind === 'PRIVATE' ? createPrivateKey({ key: text, format: 'pem' }) : createPublicKey({ key: text, format: 'pem' })
  } catch {
    throw refuse(variable, wanted)
  }
  const alg = algOf(key)
  if (!alg) throw refuse(variable, wanted)
  return { key, alg }
}

function parsePrivate(pem: string): { key: KeyObject, alg: TokenAlg } {
  return parseKey(unescapePem(pem), 'PRIVATE', KEY_VAR, 'must be a PEM PKCS#8 private key (BEGIN PRIVATE KEY), EC P-256 or Ed25519')
}

function parsePrevious(list: string): Array<{ key: KeyObject, alg: TokenAlg }> {
  return list.split(';').map((pem) => unescapePem(pem)).filter(Boolean).map((text, i) =>
    parseKey(text, 'PUBLIC', PREVIOUS_VAR, `entry ${i + 1} must be a PEM public key (BEGIN PUBLIC KEY), EC P-256 or Ed25519`))
}

async function publicJwk(key: KeyObject, alg: TokenAlg): Promise<JWK> {
  const jwk = await exportJWK(key)
  return { ...jwk, kid: await calculateJwkThumbprint(jwk, 'sha256'), alg, use: 'sig' }
}

/**
 * VERIFICATION_TOKEN_KEY and the previous public keys, parsed and checked
 * once at startup. Undefined when no key is set (tokens off). Throws a
 * ConfigError naming the variable for a key that is not what the contract
 * allows.
 */
export async function loadTokenKeys(config: Pick<Config, 'VERIFICATION_TOKEN_KEY' | 'VERIFICATION_TOKEN_PREVIOUS_PUBLIC_KEYS'>): Promise<TokenKeys | undefined> {
  if (config.VERIFICATION_TOKEN_KEY === undefined) {
    if (config.VERIFICATION_TOKEN_PREVIOUS_PUBLIC_KEYS !== undefined) {
      throw new ConfigError(`invalid configuration: ${PREVIOUS_VAR} is set without ${KEY_VAR}`)
    }
    return undefined
  }
  const { key, alg } = parsePrivate(config.VERIFICATION_TOKEN_KEY)
  const current = await publicJwk(createPublicKey(key), alg)
  const previous = await Promise.all(parsePrevious(config.VERIFICATION_TOKEN_PREVIOUS_PUBLIC_KEYS ?? '').map((p) => publicJwk(p.key, p.alg)))
  // The current key listed again as a previous one (a rotation half done) is served once.
  const keys = [current, ...previous.filter((jwk, i) => jwk.kid !== current.kid && previous.findIndex((p) => p.kid === jwk.kid) === i)]
  return { signing: { key, alg, kid: current.kid! }, jwks: Object.freeze({ keys: Object.freeze(keys) }) }
}
