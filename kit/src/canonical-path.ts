import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { HttpError } from './errors.js'

// Spellings that some hop reads as another path: WHATWG URL (what the gateway's and the UI's proxy
// build the next request with) resolves `.` and `..` segments, encoded ones included (`%2e`, `.%2E`),
// and reads `\` as `/`; nginx also merges `//` and decodes before resolving. The router sees none of
// that, so a decision made on the route it matched (the password budget, whether a caller is needed)
// would be made on another path than the service routes. The encoded ones are refused wherever they
// are: a client never needs to encode a dot, and no path of the API has a `/` or `\` inside a
// segment. (An encoded control character, `%00`, is routed alike by every hop: each route's
// validation refuses it in its parameters, saying which.)
const ENCODED_SEPARATOR = /%(2e|2f|5c)/i
// Raw: Node refuses most controls and spaces itself; `\` and `#` it lets through, and anything
// outside printable ASCII should have been percent-encoded.
const RAW_OUT_OF_PLACE = /[^\x21-\x7e]|[\\#]/

/**
 * Why the path of a request target (the query string is not judged) is not the one every hop
 * routes alike, or undefined when it is.
 */
export function nonCanonicalPath(target: string): string | undefined {
  const queryStart = target.indexOf('?')
  const path = queryStart === -1 ? target : target.slice(0, queryStart)
  if (!path.startsWith('/')) return 'the request target must be a path beginning with /'
  const raw = RAW_OUT_OF_PLACE.exec(path)
  if (raw) {
    if (raw[0] === '\\') return 'the path has a backslash'
    if (raw[0] === '#') return 'the path has a #: a fragment is not sent'
    return 'the path has a character that must be percent-encoded'
  }
  const separator = ENCODED_SEPARATOR.exec(path)
  if (separator)
    return `the path has a percent-encoded "${decodeURIComponent(separator[0])}"; spell paths without encoded dots, slashes or backslashes`
  const segments = path.slice(1).split('/')
  for (const [index, segment] of segments.entries()) {
    if (segment === '.' || segment === '..') return `the path has a "${segment}" segment`
    // A trailing slash is its own route (`/movies/`); an empty segment anywhere else is `//`.
    if (segment === '' && index < segments.length - 1) return 'the path has an empty segment (//)'
  }
  return undefined
}

/**
 * 400 for a path that is not canonical, before any other decision is made from it (rate limits,
 * who must be signed in): the gateway, the UI server and every service refuse the same spellings.
 */
export const canonicalPaths = fp(
  async (fastify: FastifyInstance) => {
    fastify.addHook('onRequest', (request, _reply, done) => {
      const problem = nonCanonicalPath(request.url)
      done(problem === undefined ? undefined : new HttpError(400, problem, { code: 'BAD_REQUEST' }))
    })
  },
  { name: 'canonical-paths' },
)
