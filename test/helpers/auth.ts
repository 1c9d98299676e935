// Credentials for tests: real sign-ins against a running users service, and an issuer of its own
// (a key pair, its JWKS) for services tested beside a users stand-in.
import type { KeyObject } from 'node:crypto'
import { generateSigningKey, JWKS_PATH, type PublicJwk, type Role, TOKEN_ALGORITHM } from '@cinema/kit'
import type { FastifyInstance } from 'fastify'
import { SignJWT } from 'jose'
import { DEMO_SETTINGS } from '../../scripts/services.mjs'
import { DEMO_PASSWORD } from '../../users/src/accounts.js'

/** The password of the seeded users when the users service runs with DEMO_CREDENTIALS=true. */
export { DEMO_PASSWORD }
/** The administrator `npm start`, Compose and the test systems name in ADMIN_USERNAMES. */
export const DEMO_ADMIN = DEMO_SETTINGS.ADMIN_USERNAMES

/** The settings a users service needs for the seeded users to sign in as in the demo (as `npm start` gives it). */
export const DEMO_ENV = DEMO_SETTINGS

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** A token from `POST {baseUrl}/auth/token` (the users service or the gateway). */
export async function signIn(baseUrl: string, username: string, password = DEMO_PASSWORD): Promise<string> {
  const response = await fetch(`${baseUrl}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  const body = (await response.json()) as { access_token?: string }
  if (response.status !== 200 || !body.access_token) {
    throw new Error(`sign-in of ${username} at ${baseUrl}: ${response.status} ${JSON.stringify(body)}`)
  }
  return body.access_token
}

/** A token from `POST /auth/token` of a users service built in this test (through `inject`). */
export async function signInTo(users: FastifyInstance, username: string, password = DEMO_PASSWORD): Promise<string> {
  const response = await users.inject({ method: 'POST', url: '/auth/token', payload: { username, password } })
  const body = response.json() as { access_token?: string }
  if (response.statusCode !== 200 || !body.access_token) {
    throw new Error(`sign-in of ${username}: ${response.statusCode} ${response.body}`)
  }
  return body.access_token
}

export interface TokenOptions {
  role?: Role
  issuer?: string
  audience?: string
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number
  kid?: string
}

/** A signer with its own Ed25519 key, publishing its JWKS as the users service does. */
export class TestIssuer {
  private constructor(
    private readonly privateKey: KeyObject,
    readonly jwk: PublicJwk,
  ) {}

  static async create(): Promise<TestIssuer> {
    const { privateKey, jwk } = await generateSigningKey()
    return new TestIssuer(privateKey, jwk)
  }

  get jwks(): { keys: PublicJwk[] } {
    return { keys: [this.jwk] }
  }

  /** Whether a users stand-in should answer `path` with this issuer's JWKS. */
  static isJwksPath(path: string | undefined): boolean {
    return path === JWKS_PATH
  }

  token(username: string, options: TokenOptions = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000)
    const expiresIn = options.expiresIn ?? 3_600
    return new SignJWT({ role: options.role ?? 'customer' })
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: options.kid ?? this.jwk.kid, typ: 'JWT' })
      .setSubject(username)
      .setIssuer(options.issuer ?? 'cinema')
      .setAudience(options.audience ?? 'cinema')
      .setIssuedAt(expiresIn < 0 ? now + expiresIn - 60 : now)
      .setExpirationTime(now + expiresIn)
      .sign(this.privateKey)
  }
}

/** An unsigned token (`alg: none`) naming `username` as an admin: must be refused everywhere. */
export function unsignedToken(username: string): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: username, role: 'admin', iss: 'cinema', aud: 'cinema', iat: now, exp: now + 600 })}.`
}
