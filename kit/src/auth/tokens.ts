import { generateKeyPairSync, type KeyObject, type webcrypto } from 'node:crypto'
import {
  calculateJwkThumbprint,
  exportJWK,
  importJWK,
  type JWK,
  type JWTHeaderParameters,
  errors as joseErrors,
  jwtVerify,
} from 'jose'
import { Type } from 'typebox'
import { ROLES, type Role } from '../contracts.js'
import { HttpError } from '../errors.js'

export { ROLES, type Role }

/** Who a verified token speaks for, and until when (seconds since the epoch). */
export interface Caller {
  username: string
  role: Role
  expiresAt: number
}

/** The only algorithm tokens are signed and accepted with: `none`, HS256 and the rest are refused. */
export const TOKEN_ALGORITHM = 'EdDSA'
/** The longest lifetime a token may have: one hour. */
export const MAX_TOKEN_TTL_SECONDS = 3_600

/** A public signing key as `/.well-known/jwks.json` lists it. */
export const PublicJwk = Type.Object({
  kty: Type.Literal('OKP'),
  crv: Type.Literal('Ed25519'),
  x: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
  kid: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
  alg: Type.Literal(TOKEN_ALGORITHM),
  use: Type.Literal('sig'),
})
export const JwkSet = Type.Object({ keys: Type.Array(PublicJwk) }, { description: 'the keys tokens are signed with' })
export interface PublicJwk {
  kty: 'OKP'
  crv: 'Ed25519'
  x: string
  kid: string
  alg: typeof TOKEN_ALGORITHM
  use: 'sig'
}

/** A public key as jose takes it. */
export type VerificationKey = webcrypto.CryptoKey | KeyObject

/** Where a verifier finds the public key a token names by `kid`. */
export interface KeySource {
  keyFor(kid: string): Promise<VerificationKey | undefined>
}

/** A new Ed25519 key pair: the private key to sign with, and the public one as published, its thumbprint as `kid`. */
export async function generateSigningKey(): Promise<{ privateKey: KeyObject; jwk: PublicJwk }> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const exported = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(exported)
  return {
    privateKey,
    jwk: { kty: 'OKP', crv: 'Ed25519', x: exported.x as string, kid, alg: TOKEN_ALGORITHM, use: 'sig' },
  }
}

export function importPublicJwk(jwk: PublicJwk): Promise<VerificationKey> {
  return importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x } satisfies JWK, TOKEN_ALGORITHM) as Promise<VerificationKey>
}

/** The `WWW-Authenticate` challenge of every 401: credentials are a bearer token. */
export const BEARER_CHALLENGE = 'Bearer realm="cinema"'

/** The 401 for a request without usable credentials; `problem` set when a token was given but refused. */
export function unauthenticated(message: string, problem?: 'invalid_token'): HttpError {
  const challenge = problem ? `${BEARER_CHALLENGE}, error="${problem}"` : BEARER_CHALLENGE
  return new HttpError(401, message, { code: 'UNAUTHENTICATED', headers: { 'www-authenticate': challenge } })
}

// Clocks of the users service and of a verifier may differ a little: a token issued "in the
// future" by a few seconds is still good.
const CLOCK_TOLERANCE_SECONDS = 30

// Verified tokens are remembered by their exact text, so a client using one token for an hour
// costs one signature check, not one per request. Bounded: the oldest is forgotten first.
const VERIFIED_CACHE_SIZE = 10_000

export interface TokenVerifierOptions {
  issuer: string
  audience: string
}

/** Checks tokens: signature by a known key, `EdDSA` only, issuer, audience, expiry, subject and role. */
export class TokenVerifier {
  readonly #verified = new Map<string, Caller>()

  constructor(
    private readonly keys: KeySource,
    private readonly options: TokenVerifierOptions,
  ) {}

  /** The caller the token speaks for; a 401 HttpError when it is not valid. */
  async verify(token: string): Promise<Caller> {
    const known = this.#verified.get(token)
    if (known) {
      if ((known.expiresAt + CLOCK_TOLERANCE_SECONDS) * 1000 > Date.now()) return known
      this.#verified.delete(token)
      throw unauthenticated('the token has expired; sign in again', 'invalid_token')
    }
    const caller = await this.#check(token)
    if (this.#verified.size >= VERIFIED_CACHE_SIZE) {
      const oldest = this.#verified.keys().next().value
      if (oldest !== undefined) this.#verified.delete(oldest)
    }
    this.#verified.set(token, caller)
    return caller
  }

  async #check(token: string): Promise<Caller> {
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload']
    try {
      ;({ payload } = await jwtVerify(token, (header: JWTHeaderParameters) => this.#keyOf(header), {
        algorithms: [TOKEN_ALGORITHM],
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['sub', 'exp', 'iat'],
        maxTokenAge: MAX_TOKEN_TTL_SECONDS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }))
    } catch (error) {
      if (error instanceof HttpError) throw error
      if (error instanceof joseErrors.JWTExpired)
        throw unauthenticated('the token has expired; sign in again', 'invalid_token')
      throw unauthenticated('the token is not valid', 'invalid_token')
    }
    const { sub, role, exp } = payload
    if (typeof sub !== 'string' || !ROLES.includes(role as Role) || typeof exp !== 'number') {
      throw unauthenticated('the token is not valid', 'invalid_token')
    }
    return { username: sub, role: role as Role, expiresAt: exp }
  }

  async #keyOf(header: JWTHeaderParameters): Promise<VerificationKey> {
    if (typeof header.kid !== 'string') throw unauthenticated('the token names no key', 'invalid_token')
    const key = await this.keys.keyFor(header.kid)
    if (!key) throw unauthenticated('the token is signed by an unknown key', 'invalid_token')
    return key
  }
}
