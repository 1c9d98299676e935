import { auditLog, contracts, ErrorResponse, HttpError, JWKS_PATH, JwkSet } from '@cinema/kit'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Accounts } from '../accounts.js'
import type { SigningKeys } from '../signing-keys.js'

const TokenAnswer = Type.Object({
  access_token: Type.String({ description: 'a JWT (EdDSA): send it as `Authorization: Bearer <token>`' }),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'seconds until it expires' }),
})

// Public keys change only on rotation, and a verifier refetches on an unknown kid anyway.
const JWKS_CACHE_CONTROL = 'public, max-age=300'

export const authRoutes: FastifyPluginAsyncTypebox<{ accounts: Accounts; keys: SigningKeys }> = async (
  fastify,
  { accounts, keys },
) => {
  fastify.post(
    '/auth/token',
    {
      schema: {
        operationId: 'signIn',
        tags: ['auth'],
        summary: 'Sign in: a bearer token for a username and password',
        description:
          'A wrong password and an unknown username get the same 401. After 10 failed sign-ins for one username within 15 minutes, 429 until the window ends.',
        body: Type.Object(
          { username: contracts.UserId, password: Type.String({ minLength: 1, maxLength: 128 }) },
          { additionalProperties: false },
        ),
        response: { 200: TokenAnswer, 400: ErrorResponse, 401: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body
      try {
        const token = await accounts.signIn(username, password)
        auditLog(request, username, 'sign in', username)
        return reply.header('cache-control', 'no-store').send(token)
      } catch (error) {
        if (error instanceof HttpError && error.statusCode < 500) {
          request.log.info({ audit: { actor: username, action: 'sign in refused', subject: username } }, error.message)
        }
        throw error
      }
    },
  )

  fastify.get(
    JWKS_PATH,
    {
      schema: {
        operationId: 'signingKeys',
        tags: ['auth'],
        summary: 'The public keys tokens are signed with (JWKS)',
        response: { 200: JwkSet, 503: ErrorResponse },
      },
    },
    async (_request, reply) => reply.header('cache-control', JWKS_CACHE_CONTROL).send({ keys: await keys.published() }),
  )
}
