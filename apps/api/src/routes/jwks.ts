import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { errorResponses, errors } from '../errors.js'
import type { TokenKeys } from '../tokens/keys.js'

const PublicJwk = Type.Object({
  kty: Type.String({ examples: ['EC'] }),
  kid: Type.String({ description: 'RFC 7638 thumbprint, the header kid of tokens signed with this key' }),
  alg: Type.Union([Type.Literal('ES256'), Type.Literal('EdDSA')]),
  use: Type.Literal('sig'),
  crv: Type.String({ examples: ['P-256', 'Ed25519'] }),
  x: Type.String(),
  y: Type.Optional(Type.String()),
})

const schema = {
  summary: 'Public keys of verification tokens',
  description: 'The keys a relying party checks the token of `POST /v1/sms-codes/verify` with: the current one and those of VERIFICATION_TOKEN_PREVIOUS_PUBLIC_KEYS. 404 when VERIFICATION_TOKEN_KEY is unset.',
  tags: ['tokens'],
  response: { 200: Type.Object({ keys: Type.Array(PublicJwk) }), ...errorResponses(404) },
}

/** Keys change only with a restart; relying parties may cache them a few minutes. */
const CACHE_CONTROL = 'public, max-age=300'

export const jwksRoutes: FastifyPluginAsyncTypebox<{ keys: TokenKeys | undefined }> = async (app, { keys }) => {
  app.get('/.well-known/jwks.json', { schema }, async (_request, reply) => {
    if (!keys) throw errors.notFound()
    return reply.header('cache-control', CACHE_CONTROL).send(keys.jwks as { keys: Array<typeof PublicJwk.static> })
  })
}
