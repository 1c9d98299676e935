import type { IncomingHttpHeaders } from 'node:http'

// RFC 9110 §7.6.1: meaningful for one connection only, never forwarded. (reply-from drops
// `connection` and the headers it names from requests, but not these; undici refuses to send
// `keep-alive`, `upgrade` and the like, so a client sending one got a 502 blaming the next hop.)
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]

/** Deletes hop-by-hop headers, and those `Connection` names, in place: reply-from hands over its own copies. */
export function dropHopByHop<Headers extends IncomingHttpHeaders>(headers: Headers): Headers {
  const named = headers.connection
  if (typeof named === 'string') for (const name of named.split(',')) delete headers[name.trim().toLowerCase()]
  for (const name of HOP_BY_HOP) delete headers[name]
  return headers
}

/**
 * A proxied request's headers as the next hop may get them: without hop-by-hop headers, and
 * without `Expect` (Node has already answered `100-continue`, the body is sent whole, and undici
 * refuses to send the header).
 */
export function forwardableRequestHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const forwarded = dropHopByHop(headers)
  delete forwarded.expect
  return forwarded
}
