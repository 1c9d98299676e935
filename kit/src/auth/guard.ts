import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import { ErrorResponse, HttpError } from '../errors.js'
import { type Caller, type TokenVerifier, unauthenticated } from './tokens.js'

/** Settings every service that checks tokens reads: who issues them, for whom, and whether reads need one. */
export const AuthSettings = {
  TOKEN_ISSUER: Type.String({ default: 'cinema', description: 'the `iss` of tokens: who signs them' }),
  TOKEN_AUDIENCE: Type.String({ default: 'cinema', description: 'the `aud` of tokens: who accepts them' }),
  PRIVATE_READS: Type.Boolean({
    default: false,
    description: 'true: reading users and bookings needs a token (your own data; everything for an admin)',
  }),
}

// `Bearer` (any case), one space, a compact JWS: three base64url parts.
const BEARER = /^Bearer ([\w-]+\.[\w-]+\.[\w-]+)$/i

/** The token of an `Authorization: Bearer <token>` header; 401 for anything else. */
export function bearerTokenOf(authorization: string): string {
  const token = BEARER.exec(authorization)?.[1]
  if (!token) throw unauthenticated('the Authorization header must be "Bearer <token>"', 'invalid_token')
  return token
}

/** The OpenAPI security requirement of a protected operation, and the answers it adds. */
export const BEARER_SECURITY = [{ bearerAuth: [] }]
export const AUTH_RESPONSES = { 401: ErrorResponse, 403: ErrorResponse }

/** Who may do what: callers known by their tokens, owners and admins told apart. */
export class Guard {
  constructor(
    private readonly verifier: TokenVerifier,
    readonly privateReads: boolean,
  ) {}

  /** The caller named by the request's bearer token; undefined without one; 401 for a bad one. */
  async callerOf(request: FastifyRequest): Promise<Caller | undefined> {
    const { authorization } = request.headers
    return authorization === undefined ? undefined : this.verifier.verify(bearerTokenOf(authorization))
  }

  /** The caller; 401 without a valid token. */
  async requireCaller(request: FastifyRequest): Promise<Caller> {
    const caller = await this.callerOf(request)
    if (!caller) throw unauthenticated('sign in first: this needs an Authorization: Bearer token')
    return caller
  }

  /** The caller, who must be `username` or an admin: 401 without a valid token, 403 for anyone else. */
  async requireActingFor(request: FastifyRequest, username: string): Promise<Caller> {
    const caller = await this.requireCaller(request)
    if (caller.role !== 'admin' && caller.username !== username) {
      throw new HttpError(403, `${caller.username} may not act for ${username}`, { code: 'FORBIDDEN' })
    }
    return caller
  }

  /** For a read of `username`'s data: nothing needed unless reads are private. */
  async requireReading(request: FastifyRequest, username: string): Promise<void> {
    if (this.privateReads) await this.requireActingFor(request, username)
  }

  /**
   * For a read of everyone's data: undefined when all of it may be shown, else the only username
   * whose entries may be (a customer's own, with private reads).
   */
  async onlyVisibleTo(request: FastifyRequest): Promise<string | undefined> {
    if (!this.privateReads) return undefined
    const caller = await this.requireCaller(request)
    return caller.role === 'admin' ? undefined : caller.username
  }
}

/** One line at info for every write: who did what to whose data, with the request's id (`reqId`). */
export function auditLog(request: FastifyRequest, actor: string, action: string, subject: string): void {
  request.log.info({ audit: { actor, action, subject } }, `${actor}: ${action} (${subject})`)
}

declare module 'fastify' {
  interface FastifyInstance {
    guard: Guard
  }
}

/** Decorates the app with its `guard`, checking tokens with `verifier`. */
export const guard = fp(
  async (fastify: FastifyInstance, options: { verifier: TokenVerifier; privateReads: boolean }) => {
    fastify.decorate('guard', new Guard(options.verifier, options.privateReads))
  },
  { name: 'cinema-guard' },
)

/** OpenAPI for an operation: marked as needing a token when `protectedOperation`. */
export function securityOf(protectedOperation: boolean) {
  return protectedOperation ? { security: BEARER_SECURITY } : {}
}
