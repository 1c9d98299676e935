import { bearerTokenOf, type Caller, HttpError, type TokenVerifier } from '@cinema/kit'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** The browser session: the token itself, in a cookie page scripts cannot read. */
export const SESSION_COOKIE = 'cinema_session'
// The UI sends this on every call; a page of another site cannot add it without a CORS preflight
// the gateway does not grant (CORS_ORIGINS is empty by default).
const CSRF_HEADER = 'x-requested-with'
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** The session cookie's value, when the request carries that cookie. */
function sessionCookieOf(request: FastifyRequest): string | undefined {
  const { cookie } = request.headers
  if (!cookie?.includes(SESSION_COOKIE)) return undefined
  for (const pair of cookie.split(';')) {
    const separator = pair.indexOf('=')
    if (separator !== -1 && pair.slice(0, separator).trim() === SESSION_COOKIE) return pair.slice(separator + 1).trim()
  }
  return undefined
}

function cookieAttributes(request: FastifyRequest, maxAgeSeconds: number): string {
  // Secure when the browser reached us over HTTPS (directly, or through a trusted proxy that says so).
  const secure = request.protocol === 'https' ? '; Secure' : ''
  return `Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure}`
}

export function setSessionCookie(reply: FastifyReply, token: string, caller: Caller): void {
  const maxAge = Math.max(0, caller.expiresAt - Math.floor(Date.now() / 1000))
  reply.header('set-cookie', `${SESSION_COOKIE}=${token}; ${cookieAttributes(reply.request, maxAge)}`)
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.header('set-cookie', `${SESSION_COOKIE}=; ${cookieAttributes(reply.request, 0)}`)
}

/**
 * A request that changes something on the strength of the cookie alone must come from the UI's
 * own pages: it carries X-Requested-With, and the browser, when it says, calls it same-origin.
 */
export function assertNotCrossSite(request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method)) return
  const site = request.headers['sec-fetch-site']
  if (!request.headers[CSRF_HEADER] || (site !== undefined && site !== 'same-origin')) {
    throw new HttpError(403, 'a cookie-authenticated change needs the X-Requested-With header, from this site', {
      code: 'CSRF_REJECTED',
    })
  }
}

/**
 * The caller of a request from its Authorization header or else (where `session` allows) its
 * session cookie; undefined without either. A bad Authorization header is a 401. A bad or expired
 * session cookie is cleared, and is a 401 only when the request needs a caller (`required`):
 * public reads go on without it. A cookie-borne token is put in the Authorization header, which is
 * what the services read.
 */
export async function edgeCaller(
  verifier: TokenVerifier,
  request: FastifyRequest,
  reply: FastifyReply,
  { required, session }: { required: boolean; session: boolean },
): Promise<Caller | undefined> {
  const { authorization } = request.headers
  if (authorization !== undefined) return verifier.verify(bearerTokenOf(authorization))
  if (!session) return undefined
  const token = sessionCookieOf(request)
  if (token === undefined) return undefined
  let caller: Caller
  try {
    caller = await verifier.verify(token)
  } catch (error) {
    if (error instanceof HttpError && error.statusCode === 401) clearSessionCookie(reply)
    // A public read goes on without the session: refused (then cleared), or not judged just now
    // (the users service's keys out of reach).
    if (required || !(error instanceof HttpError)) throw error
    return undefined
  }
  assertNotCrossSite(request)
  request.headers.authorization = `Bearer ${token}`
  return caller
}
