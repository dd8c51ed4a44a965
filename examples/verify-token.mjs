#!/usr/bin/env node
// How an app's backend trusts a verification: check the token that
// POST /v1/sms-codes/verify handed to the page, against the service's JWKS.
//
//   SMS_VERIFY_URL=http://127.0.0.1:8000 TOKEN_AUDIENCE=my-app node examples/verify-token.mjs <token>
//
// Prints the verified claims as JSON and exits 0; prints why not and exits 1.
import { pathToFileURL } from 'node:url'
import { createRemoteJWKSet, jwtVerify } from 'jose'

const base = process.env.SMS_VERIFY_URL ?? 'http://127.0.0.1:8000'
// Build the key set once per process: it caches the keys and refetches on an unknown kid.
const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', base))

export async function verifiedMobile(token, { purpose, issuer = 'sms-verify', audience } = {}) {
  const { payload } = await jwtVerify(token, jwks, {
    issuer,
    audience, // must match VERIFICATION_TOKEN_AUDIENCE when the service sets one
    algorithms: ['ES256', 'EdDSA'],
  })
  if (purpose !== undefined && payload.purpose !== purpose) throw new Error(`token is for ${payload.purpose}, not ${purpose}`)
  // payload.sub is the E.164 mobile; payload.jti is single-use material: store it to refuse a replay.
  return payload
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const claims = await verifiedMobile(process.argv[2] ?? '', {
      purpose: process.env.TOKEN_PURPOSE,
      issuer: process.env.TOKEN_ISSUER,
      audience: process.env.TOKEN_AUDIENCE,
    })
    console.log(JSON.stringify(claims))
  } catch (err) {
    console.error(`token refused: ${err.code ?? err.name}: ${err.message}`)
    process.exit(1)
  }
}
