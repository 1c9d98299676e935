import {
  BEARER_CHALLENGE,
  type Caller,
  contracts,
  ERROR_CODES,
  type ErrorBody,
  type ErrorCode,
  ErrorResponse,
  HttpError,
  type PeerClient,
  type TokenVerifier,
  unauthenticated,
} from '@cinema/kit'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import {
  assertNotCrossSite,
  clearOtherSessionCookies,
  clearSessionCookie,
  edgeCaller,
  SESSION_COOKIE,
  sessionCookieOf,
  setSessionCookie,
} from '../sessions.js'

const { Session } = contracts

// What the users service may answer a sign-in with, besides a token.
const REFUSALS = new Set([400, 401, 429])

/** The users service's refusal as it said it (400, 401, 429 with its Retry-After); anything else is a bad answer. */
function refusalOf(statusCode: number, body: unknown, retryAfter: string | string[] | undefined): HttpError {
  const said = (typeof body === 'object' && body !== null ? body : {}) as Partial<ErrorBody>
  if (!REFUSALS.has(statusCode) || typeof said.message !== 'string' || !ERROR_CODES.includes(said.code as ErrorCode)) {
    return new HttpError(502, `users service refused the sign-in with ${statusCode}`, {
      code: 'PEER_BAD_ANSWER',
      service: 'users',
      expose: true,
    })
  }
  const headers: Record<string, string> = {}
  if (typeof retryAfter === 'string') headers['retry-after'] = retryAfter
  if (statusCode === 401) headers['www-authenticate'] = BEARER_CHALLENGE
  return new HttpError(statusCode, said.message, { code: said.code as ErrorCode, headers })
}

const sessionOf = (caller: Caller): contracts.Session => ({
  username: caller.username,
  role: caller.role,
  expires_at: caller.expiresAt,
})

const COOKIE_NOTE = `The token is kept in the \`${SESSION_COOKIE}\` cookie (HttpOnly, SameSite=Strict; over HTTPS \`__Host-${SESSION_COOKIE}\`, Secure), never shown to page scripts. Changes made with the cookie need an \`X-Requested-With\` header. A request carrying two session cookies is a 400 \`SESSION_CONFLICT\` that clears them (sign out, then in again).`

/**
 * The web app's session: sign in with a password, and the gateway keeps the token in a cookie
 * page scripts cannot read; calls with that cookie are forwarded with the token as a bearer.
 */
export const sessionRoutes: FastifyPluginAsyncTypebox<{ users: PeerClient; verifier: TokenVerifier }> = async (
  fastify,
  { users, verifier },
) => {
  fastify.post(
    '/auth/session',
    {
      schema: {
        operationId: 'startSession',
        tags: ['session'],
        summary: 'Sign in for the web app: the token goes into a cookie',
        description: COOKIE_NOTE,
        body: Type.Object(
          { username: contracts.UserId, password: Type.String({ minLength: 1, maxLength: 128 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Session,
          400: ErrorResponse,
          401: ErrorResponse,
          403: ErrorResponse,
          429: ErrorResponse,
          502: ErrorResponse,
          503: ErrorResponse,
          504: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      assertNotCrossSite(request)
      // Signing in with two session cookies would leave them both behind the new one.
      sessionCookieOf(request, reply)
      const answer = await users
        .onBehalfOf(request)
        .request({ method: 'POST', path: '/auth/token', body: request.body, forwardedFor: request.ip })
      if (answer.statusCode !== 200) throw refusalOf(answer.statusCode, answer.body, answer.headers['retry-after'])
      const token = (answer.body as { access_token: string }).access_token
      const caller = await verifier.verify(token)
      // A copy planted elsewhere (another path, a parent domain) while signed out would be sent
      // beside the new cookie, or ahead of it: cleared with it.
      clearOtherSessionCookies(reply)
      setSessionCookie(reply, token, caller)
      return reply.header('cache-control', 'no-store').send(sessionOf(caller))
    },
  )

  fastify.get(
    '/auth/session',
    {
      schema: {
        operationId: 'getSession',
        tags: ['session'],
        summary: 'Who the web app is signed in as',
        description: COOKIE_NOTE,
        response: { 200: Session, 400: ErrorResponse, 401: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request, reply) => {
      const caller = await edgeCaller(verifier, request, reply, { required: true, session: true })
      if (!caller) throw unauthenticated('not signed in')
      return reply.header('cache-control', 'no-store').send(sessionOf(caller))
    },
  )

  fastify.delete(
    '/auth/session',
    {
      schema: {
        operationId: 'endSession',
        tags: ['session'],
        summary: 'Sign out of the web app: the cookie is cleared, with any copy of it another origin planted',
        description: COOKIE_NOTE,
        response: { 204: Type.Null({ description: 'signed out' }), 403: ErrorResponse },
      },
    },
    async (request, reply) => {
      assertNotCrossSite(request)
      // Never refused for two cookies: this is how the web app gets out of that.
      clearSessionCookie(reply)
      clearOtherSessionCookies(reply)
      return reply.code(204).send(null)
    },
  )
}
