import { isIP } from 'node:net'
import { bearerTokenOf, type Caller, HttpError, type TokenVerifier } from '@cinema/kit'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** The browser session: the token itself, in a cookie page scripts cannot read. */
export const SESSION_COOKIE = 'cinema_session'
// Over HTTPS the browser keeps a cookie so named only when it is Secure, host-only and Path=/: no
// sibling origin (a Domain=parent cookie) and no other path can plant or shadow it.
const SECURE_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`
// The UI sends this on every call; a page of another site cannot add it without a CORS preflight
// the gateway does not grant (CORS_ORIGINS is empty by default).
const CSRF_HEADER = 'x-requested-with'
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])
// Where the UI's proxy (nginx, its Node server) serves the gateway to the browser: `/api`.
const PREFIX_HEADER = 'x-forwarded-prefix'
// Characters a cookie's Path or Domain attribute may hold as written here: none ends the attribute.
const COOKIE_PATH = /^\/[\w\-.~!$&'()*+=:@%/]*$/
const HOST_NAME = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/
// The clearing answer names this many path levels at most (an answer to the client's own request,
// kept small): /api/users/alice/bookings/… is four.
const CLEARED_PATH_LEVELS = 6

const sessionCookieName = (request: FastifyRequest) =>
  request.protocol === 'https' ? SECURE_SESSION_COOKIE : SESSION_COOKIE

/** Every value of the session cookie the request carries, in the order sent. */
function sessionCookiesOf(request: FastifyRequest): string[] {
  const { cookie } = request.headers
  const name = sessionCookieName(request)
  if (!cookie?.includes(name)) return []
  const values: string[] = []
  for (const pair of cookie.split(';')) {
    const separator = pair.indexOf('=')
    if (separator !== -1 && pair.slice(0, separator).trim() === name) values.push(pair.slice(separator + 1).trim())
  }
  return values
}

/**
 * The session cookie's value, when the request carries that cookie. Two or more (another origin
 * of the same site can add one, with Domain=<parent> or a longer Path, which the browser sends
 * first) are a 400 SESSION_CONFLICT whatever their values, and every copy this host may clear is
 * cleared: whichever one were believed, someone else could choose or spoil the session.
 */
export function sessionCookieOf(request: FastifyRequest, reply: FastifyReply): string | undefined {
  const values = sessionCookiesOf(request)
  if (values.length <= 1) return values[0]
  clearSessionCookie(reply)
  clearOtherSessionCookies(reply)
  throw new HttpError(
    400,
    `the request carried ${values.length} session cookies (${sessionCookieName(request)}), so whose session it is cannot be told: they have been cleared where this site may; sign in again, and if this persists, delete this site's cookies in the browser`,
    { code: 'SESSION_CONFLICT' },
  )
}

function cookieAttributes(request: FastifyRequest, maxAgeSeconds: number): string {
  // Secure when the browser reached us over HTTPS (directly, or through a trusted proxy that says so).
  const secure = request.protocol === 'https' ? '; Secure' : ''
  return `Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure}`
}

export function setSessionCookie(reply: FastifyReply, token: string, caller: Caller): void {
  const maxAge = Math.max(0, caller.expiresAt - Math.floor(Date.now() / 1000))
  const name = sessionCookieName(reply.request)
  reply.header('set-cookie', `${name}=${token}; ${cookieAttributes(reply.request, maxAge)}`)
}

/** The gateway's own cookie cleared: host-only, Path=/. */
export function clearSessionCookie(reply: FastifyReply): void {
  reply.header('set-cookie', `${sessionCookieName(reply.request)}=; ${cookieAttributes(reply.request, 0)}`)
}

/**
 * The cookie paths the browser could have sent with this request (RFC 6265 §5.1.4): `/` and each
 * level of its path as the browser asked for it (behind the UI's `X-Forwarded-Prefix`), without and
 * with a final `/`.
 */
function browserCookiePaths(request: FastifyRequest): string[] {
  const prefix = request.headers[PREFIX_HEADER]
  const asked = `${typeof prefix === 'string' ? prefix.replace(/\/+$/, '') : ''}${request.url.split('?', 1)[0]}`
  if (!COOKIE_PATH.test(asked)) return ['/']
  const levels = asked.split('/').filter(Boolean).slice(0, CLEARED_PATH_LEVELS)
  const candidates = levels.flatMap((_level, index) => {
    const path = `/${levels.slice(0, index + 1).join('/')}`
    return [path, `${path}/`]
  })
  const sentWith = (path: string) =>
    asked === path || (asked.startsWith(path) && (path.endsWith('/') || asked[path.length] === '/'))
  return ['/', ...candidates.filter(sentWith)]
}

/** The Domain attributes that the browser's host may set: itself and each parent short of the top level. */
function browserCookieDomains(request: FastifyRequest): string[] {
  const host = request.hostname.toLowerCase()
  // An address, or `localhost`: host-only cookies alone.
  if (isIP(host) !== 0 || !HOST_NAME.test(host)) return []
  const labels = host.split('.')
  return labels.slice(0, -1).map((_label, index) => labels.slice(index).join('.'))
}

/**
 * Clears the session cookies besides the gateway's own that the browser may have sent with this
 * request and this host may clear: those with a Domain (this host, its parents) or another path.
 * Over HTTPS only the `__Host-` cookie counts, which can have no such copy.
 */
export function clearOtherSessionCookies(reply: FastifyReply): void {
  const { request } = reply
  if (request.protocol === 'https') return
  const attributes = `Max-Age=0; HttpOnly; SameSite=Strict`
  for (const path of browserCookiePaths(request)) {
    if (path !== '/') reply.header('set-cookie', `${SESSION_COOKIE}=; Path=${path}; ${attributes}`)
    for (const domain of browserCookieDomains(request)) {
      reply.header('set-cookie', `${SESSION_COOKIE}=; Path=${path}; Domain=${domain}; ${attributes}`)
    }
  }
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
  const token = sessionCookieOf(request, reply)
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
