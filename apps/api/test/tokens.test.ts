import t from 'tap'
import { PassThrough } from 'node:stream'
import type { AddressInfo } from 'node:net'
import { createRemoteJWKSet, decodeProtectedHeader, errors as jose, jwtVerify, SignJWT } from 'jose'
import { codeOf, e164, freshMobile, makeApp, sendCode, startTestRedis, verifyCode } from './helpers/app.js'
import { pemPair, thumbprint } from './helpers/token-keys.js'
import type { App } from '../src/app.js'
import type { RedisServer } from '@sms-verify/testing'

/** Listens on 127.0.0.1:0 (closed with the app) so jose fetches the JWKS over real HTTP. */
async function listening(app: App): Promise<URL> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  return new URL(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/.well-known/jwks.json`)
}

/** Send a code, read it from the queue, verify it: the verify answer and the request id. */
async function verified(app: App, server: RedisServer, purpose = 'register') {
  const mobile = freshMobile()
  const sent = await sendCode(app, { mobile, purpose })
  const requestId = sent.json().requestId as string
  const res = await verifyCode(app, { mobile, purpose, code: await codeOf(server, requestId) })
  return { res, body: res.json() as { verified: boolean, token?: string }, mobile, requestId }
}

for (const alg of ['ES256', 'EdDSA'] as const) {
  t.test(`${alg}: a verify hands back a JWT that jose checks against the live JWKS`, async (t) => {
    const server = await startTestRedis(t)
    const key = pemPair(alg)
    const { app } = await makeApp(t, server, { VERIFICATION_TOKEN_KEY: key.privatePem, VERIFICATION_TOKEN_AUDIENCE: 'shop-backend' })
    const jwksUrl = await listening(app)
    const before = Math.floor(Date.now() / 1000)
    const { res, body, mobile, requestId } = await verified(app, server, 'login')
    const after = Math.ceil(Date.now() / 1000)
    t.equal(res.statusCode, 200)
    t.same(Object.keys(body).sort(), ['token', 'verified'])
    t.equal(body.verified, true)

    const { payload, protectedHeader } = await jwtVerify(body.token!, createRemoteJWKSet(jwksUrl), { issuer: 'sms-verify', audience: 'shop-backend' })
    t.equal(protectedHeader.alg, alg)
    t.equal(protectedHeader.kid, await thumbprint(key.publicKey), 'kid is the RFC 7638 thumbprint of the public key')
    t.equal(payload.sub, e164(mobile), 'sub is the E.164 mobile')
    t.equal(payload.purpose, 'login')
    t.equal(payload.aud, 'shop-backend')
    t.equal(payload.jti, requestId, 'jti is the request id of the verified code')
    t.ok(payload.iat! >= before && payload.iat! <= after, 'iat is the time of the verify')
    t.equal(payload.exp! - payload.iat!, 600, 'exp is iat + VERIFICATION_TOKEN_TTL_SECONDS (default 600)')

    const jwks = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
    t.equal(jwks.headers['cache-control'], 'public, max-age=300')
    const keys = jwks.json().keys as Array<Record<string, string>>
    t.equal(keys.length, 1)
    t.notOk('d' in keys[0]!, 'the JWKS holds no private part')
    t.match(keys[0], { alg, use: 'sig', kid: protectedHeader.kid })

    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
    t.match(metrics, /^sms_verification_tokens_issued_total 1$/m)
  })
}

t.test('a token is refused for another audience or issuer, and once expired', async (t) => {
  const server = await startTestRedis(t)
  const { app } = await makeApp(t, server, { VERIFICATION_TOKEN_KEY: pemPair('ES256').privatePem, VERIFICATION_TOKEN_AUDIENCE: 'shop-backend', VERIFICATION_TOKEN_TTL_SECONDS: '120', VERIFICATION_TOKEN_ISSUER: 'https://verify.example' })
  const jwks = createRemoteJWKSet(await listening(app))
  const { body } = await verified(app, server)
  const token = body.token!
  const { payload } = await jwtVerify(token, jwks, { issuer: 'https://verify.example', audience: 'shop-backend' })
  t.equal(payload.exp! - payload.iat!, 120)
  await t.rejects(jwtVerify(token, jwks, { issuer: 'https://verify.example', audience: 'another-app' }), jose.JWTClaimValidationFailed)
  await t.rejects(jwtVerify(token, jwks, { issuer: 'sms-verify', audience: 'shop-backend' }), jose.JWTClaimValidationFailed)
  // jose's clock: a second before exp it holds, at exp + 1 s it is refused (its default tolerance is 0)
  await jwtVerify(token, jwks, { audience: 'shop-backend', currentDate: new Date((payload.exp! - 1) * 1000) })
  await t.rejects(jwtVerify(token, jwks, { audience: 'shop-backend', currentDate: new Date((payload.exp! + 1) * 1000) }), jose.JWTExpired)
  // a token whose signature does not match its claims is refused
  const [h, , s] = token.split('.')
  const forged = Buffer.from(JSON.stringify({ ...payload, sub: '+8613900000000' })).toString('base64url')
  await t.rejects(jwtVerify(`${h}.${forged}.${s}`, jwks), jose.JWSSignatureVerificationFailed)
})

t.test('without an audience the token has no aud claim', async (t) => {
  const server = await startTestRedis(t)
  const { app } = await makeApp(t, server, { VERIFICATION_TOKEN_KEY: pemPair('EdDSA').privatePem })
  const { body } = await verified(app, server)
  const { payload } = await jwtVerify(body.token!, createRemoteJWKSet(await listening(app)), { issuer: 'sms-verify' })
  t.notOk('aud' in payload)
  t.same(Object.keys(payload).sort(), ['exp', 'iat', 'iss', 'jti', 'purpose', 'sub'])
})

t.test('rotation: tokens of a previous key verify while its public key is listed', async (t) => {
  const server = await startTestRedis(t)
  const [oldKey, newKey, unlisted] = [pemPair('ES256'), pemPair('EdDSA'), pemPair('ES256')]
  const { app: before } = await makeApp(t, server, { VERIFICATION_TOKEN_KEY: oldKey.privatePem })
  const oldToken = (await verified(before, server)).body.token!

  // The operator rotates: new private key, the old public key kept in the list (with a stray `;`).
  const { app: after } = await makeApp(t, server, { VERIFICATION_TOKEN_KEY: newKey.privatePem, VERIFICATION_TOKEN_PREVIOUS_PUBLIC_KEYS: `${oldKey.publicPem};` })
  const jwks = createRemoteJWKSet(await listening(after))
  const listed = (await after.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json().keys as Array<{ kid: string, alg: string }>
  t.same(listed.map((k) => [k.kid, k.alg]), [[await thumbprint(newKey.publicKey), 'EdDSA'], [await thumbprint(oldKey.publicKey), 'ES256']], 'current key first, then the previous one')
  t.equal((await jwtVerify(oldToken, jwks)).payload.iss, 'sms-verify', 'a token in flight from the old key still verifies')
  const newToken = (await verified(after, server)).body.token!
  t.equal(decodeProtectedHeader(newToken).kid, listed[0]!.kid, 'new tokens are signed with the new key')
  await jwtVerify(newToken, jwks)

  // A key that is not listed is refused, even with a plausible kid.
  const stranger = await new SignJWT({ purpose: 'register' }).setProtectedHeader({ alg: 'ES256', kid: await thumbprint(unlisted.publicKey) })
    .setIssuer('sms-verify').setSubject('+8613900000000').setIssuedAt().setExpirationTime('5m').sign(unlisted.privateKey)
  await t.rejects(jwtVerify(stranger, createRemoteJWKSet(await listening(before))), jose.JWKSNoMatchingKey)

  // Once the old key is dropped from the list, its tokens fail.
  const { app: later } = await makeApp(t, server, { VERIFICATION_TOKEN_KEY: newKey.privatePem })
  await t.rejects(jwtVerify(oldToken, createRemoteJWKSet(await listening(later))), jose.JWKSNoMatchingKey)
})

t.test('without a key: verify answers {verified: true} and the JWKS is 404', async (t) => {
  const server = await startTestRedis(t)
  const { app } = await makeApp(t, server)
  const { res } = await verified(app, server)
  t.same(res.json(), { verified: true })
  const jwks = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  t.equal(jwks.statusCode, 404)
  t.equal(jwks.json().error, 'not_found')
  t.match((await app.inject({ method: 'GET', url: '/metrics' })).body, /^sms_verification_tokens_issued_total 0$/m)
})

t.test('the token never appears in the logs', async (t) => {
  const server = await startTestRedis(t)
  const stream = new PassThrough()
  let captured = ''
  stream.on('data', (chunk: Buffer) => { captured += chunk.toString('utf8') })
  const { app } = await makeApp(t, server, { VERIFICATION_TOKEN_KEY: pemPair('ES256').privatePem }, { logStream: stream })
  const { body, requestId } = await verified(app, server)
  const token = body.token!
  await app.close()
  t.match(captured, new RegExp(`"event":"code checked"[^\\n]*"requestId":"${requestId}"`), 'the verify was logged')
  for (const part of token.split('.')) t.notOk(captured.includes(part), 'no part of the token is logged')
})
