import type { IncomingHttpHeaders } from 'node:http'
import {
  classifyNetworkError,
  dropHopByHop,
  type ErrorCode,
  errorBody,
  forwardableRequestHeaders,
  HttpError,
  networkErrorCode,
  observer,
  type PeerOutcome,
  REPLICA_CLOSING_HEADER,
  ReplicaPool,
  type TokenVerifier,
  unauthenticated,
} from '@cinema/kit'
import proxy from '@fastify/http-proxy'
import { parse as parseContentType } from 'fast-content-type-parse'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Dispatcher } from 'undici'
import type { GatewayConfig, Upstream } from './config.js'
import { edgeCaller } from './sessions.js'

// Raised by the gateway's own HTTP client before or while sending, never by the service: a
// request it could not build (undici refuses some headers), a pool closed by a shutdown.
const OWN_CLIENT_ERRORS = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_INVALID_RETURN_VALUE',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
])
// Answers up to this size are read whole and sent in one write; larger or unsized ones stream.
const BUFFERED_BODY_LIMIT = 64 * 1024

/** What the service behind the gateway is told about the original request. */
function forwardedRequestHeaders(
  request: Pick<FastifyRequest, 'id' | 'ip' | 'protocol' | 'host'>,
  headers: IncomingHttpHeaders,
): IncomingHttpHeaders {
  const forwarded = forwardableRequestHeaders(headers)
  const priorHops = forwarded['x-forwarded-for']
  forwarded['x-forwarded-for'] = priorHops ? `${priorHops}, ${request.ip}` : request.ip
  forwarded['x-forwarded-proto'] = request.protocol
  // headers.host already names the upstream here; the client's Host is the request's own.
  forwarded['x-forwarded-host'] = request.host
  forwarded['x-request-id'] = request.id
  // The session cookie was turned into the Authorization header; services need no cookies.
  delete forwarded.cookie
  return forwarded
}

/** What the client is told: the service's headers without hop-by-hop ones or x-powered-by. */
function forwardedResponseHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  dropHopByHop(headers)
  delete headers['x-powered-by']
  // A mark between one caller and one replica; the gateway's own callers must not act on it.
  delete headers[REPLICA_CLOSING_HEADER]
  return headers
}

/**
 * Small answers (all of this API's) are read whole and sent with one write: piping a stream per
 * response cost more CPU than the copy (CPU profile under load). Large or unsized ones stream.
 */
function sendUpstreamBody(reply: FastifyReply, response: UpstreamResponse, service: string) {
  const length = Number(response.headers['content-length'])
  if (!(length <= BUFFERED_BODY_LIMIT)) return reply.send(response.stream)
  response.stream.arrayBuffer().then(
    (body) => reply.send(Buffer.from(body)),
    (error: unknown) => {
      reply.request.log.warn({ cause: String(error) }, 'the answer broke off')
      reply.removeHeader('content-length')
      reply.code(502).send(errorBody(502, 'the service’s answer broke off', 'PEER_BAD_ANSWER', service))
    },
  )
}

/**
 * reply-from forwards no body at all when the parsed one is falsy, but JSON's `null`, `false`, `0`
 * and `""` are bodies (only the JSON parser makes them): they go on as sent, so the service judges them.
 */
/**
 * 400 for a body whose Content-Type reply-from cannot read to forward it (`application/json;x`):
 * the services' parser lets odd parameters pass, reply-from's throws, which would be a 500.
 */
function assertForwardableContentType(request: FastifyRequest): void {
  const contentType = request.headers['content-type']
  if (request.body === undefined || contentType === undefined) return
  try {
    parseContentType(contentType)
  } catch {
    throw new HttpError(400, 'the Content-Type header is malformed: each parameter must be name=value', {
      code: 'BAD_REQUEST',
    })
  }
}

function falsyJsonBody(request: FastifyRequest) {
  const { body } = request
  if (body !== null && body !== false && body !== 0 && body !== '') return undefined
  return { body: JSON.stringify(body), contentType: request.headers['content-type'] ?? 'application/json' }
}

type BodyReadable = Dispatcher.ResponseData['body']
type UpstreamResponse = { headers: IncomingHttpHeaders; stream: BodyReadable }

interface UpstreamFailure {
  statusCode: 502 | 503 | 504
  outcome: PeerOutcome
  code: ErrorCode
  message: string
}

/** Whether reply-from's error is the gateway's own (its client failed), not the service's. */
function isOwnClientError(error: Error): boolean {
  return OWN_CLIENT_ERRORS.has(networkErrorCode(error) ?? '')
}

/** Why reply-from could not get an answer from the service, said as the client should read it. */
function describeUpstreamError(name: string, timeoutMs: number, error: Error): UpstreamFailure {
  const { statusCode } = error as Error & { statusCode?: number }
  const failure = classifyNetworkError(error)
  if (failure === 'connect' || statusCode === 503) {
    return {
      statusCode: 503,
      outcome: 'unavailable',
      code: 'PEER_UNAVAILABLE',
      message: `${name} service is unavailable`,
    }
  }
  if (failure === 'timeout' || statusCode === 504) {
    const message = `${name} service did not answer within ${timeoutMs} ms`
    return { statusCode: 504, outcome: 'timeout', code: 'PEER_TIMEOUT', message }
  }
  const message = `${name} service sent an invalid answer`
  return { statusCode: 502, outcome: 'server_error', code: 'PEER_BAD_ANSWER', message }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** How the call to the service went; `not_sent` when the gateway failed before it was made. */
    upstreamOutcome: PeerOutcome | 'not_sent' | null
    /** Whether the proxy's handler sent the request on to the service. */
    forwarded: boolean
  }
}

function outcomeOf(reply: FastifyReply): PeerOutcome | 'not_sent' {
  if (reply.request.upstreamOutcome) return reply.request.upstreamOutcome
  // Answered before the proxy's handler (the rate limit, a bad request, the gateway closing).
  if (!reply.request.forwarded) return 'not_sent'
  return reply.statusCode >= 500 ? 'server_error' : reply.statusCode >= 400 ? 'client_error' : 'success'
}

const READS = new Set(['GET', 'HEAD'])
// Where someone's own data lives: under these, changes need a caller, and reads too when private.
const OWNED_PREFIXES = new Set(['/users', '/bookings'])

/**
 * Whether a request under `prefix` (the route it matched, so `/%75sers` is `/users` too) must name
 * its caller before it is forwarded: every change to someone's data but sign-up (POST), and
 * reading it when reads are private. Whether that caller may do it (403) is for the service to say.
 */
function needsCaller(prefix: string, method: string, privateReads: boolean): boolean {
  if (!OWNED_PREFIXES.has(prefix) || method === 'POST') return false
  return READS.has(method) ? privateReads : true
}

/**
 * Forwards everything under the service's prefixes, path and query unchanged, once any token
 * (header or session cookie) has been verified: a bad one never reaches a service.
 */
export async function upstreamProxy(
  fastify: FastifyInstance,
  options: { upstream: Upstream; config: GatewayConfig; verifier: TokenVerifier },
) {
  const { upstream, config, verifier } = options
  fastify.decorateRequest('upstreamOutcome', null)
  fastify.decorateRequest('forwarded', false)
  const pool = new ReplicaPool(upstream.url, {
    pool: {
      connections: config.UPSTREAM_CONNECTIONS,
      connect: { timeout: config.UPSTREAM_CONNECT_TIMEOUT_MS },
      headersTimeout: config.UPSTREAM_TIMEOUT_MS,
      bodyTimeout: config.UPSTREAM_TIMEOUT_MS,
    },
    refreshMs: config.REPLICA_REFRESH_MS,
  })
  fastify.addHook('onClose', async () => pool.close())

  const observeCall = observer(fastify.metrics.peerRequestDuration)
  fastify.addHook('onResponse', (request, reply, done) => {
    const outcome = outcomeOf(reply)
    if (outcome !== 'not_sent') observeCall([upstream.name, request.method, outcome], reply.elapsedTime / 1000)
    done()
  })

  // One child context per prefix: the proxy plugin decorates the reply once per context.
  for (const prefix of upstream.prefixes) {
    await fastify.register(async (child) => {
      // Public data takes no session (the cookie is not even read); a bad Authorization header is
      // refused anywhere. Where a caller is needed and missing, 401 before anything is forwarded.
      const owned = OWNED_PREFIXES.has(prefix)
      child.addHook('onRequest', async (request, reply) => {
        const required = needsCaller(prefix, request.method, config.PRIVATE_READS)
        const caller = await edgeCaller(verifier, request, reply, { required, session: owned })
        if (!caller && required) throw unauthenticated('sign in first: this needs an Authorization: Bearer token')
      })
      await forward(child, upstream, prefix, pool, config)
    })
  }
}

async function forward(
  fastify: FastifyInstance,
  upstream: Upstream,
  prefix: string,
  pool: ReplicaPool,
  config: GatewayConfig,
) {
  await fastify.register(proxy, {
    upstream: upstream.url,
    prefix,
    rewritePrefix: prefix,
    disableRequestLogging: true,
    // Bodies are parsed here, so the gateway's body limit holds (a streamed body would bypass it).
    proxyPayloads: false,
    // OPTIONS is answered by the CORS plugin; the services have no OPTIONS routes.
    httpMethods: ['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE'],
    handler: (request, reply, destination, replyOptions) => {
      assertForwardableContentType(request)
      request.forwarded = true
      const body = falsyJsonBody(request)
      return reply.from(destination, body ? { ...replyOptions, ...body } : replyOptions)
    },
    // Keep-alive pools to every replica of this service, which also sends an idempotent call that
    // could not reach one replica to another (given as an instance, reply-from skips an Agent's
    // per-request origin lookup).
    undici: pool,
    replyOptions: {
      // A service's answer passes through as it is, 503s included. reply-from would retry a GET's
      // 503 up to ten times (1.4 s with movies down instead of the service's 5 ms, and ten times
      // the load on a service already short of capacity); a client can retry, the gateway does not.
      retryDelay: () => null,
      rewriteRequestHeaders: forwardedRequestHeaders,
      rewriteHeaders: forwardedResponseHeaders,
      // reply-from's typings name the raw response; what it passes is { statusCode, headers, stream }.
      onResponse: (_request, reply, response) =>
        sendUpstreamBody(reply as FastifyReply, response as unknown as UpstreamResponse, upstream.name),
      onError: (reply, { error }) => {
        if (isOwnClientError(error)) {
          // Not the service's failure: the kit's error handler logs it as the gateway's own and answers 500.
          reply.request.upstreamOutcome = 'not_sent'
          reply.send(error)
          return
        }
        const failure = describeUpstreamError(upstream.name, config.UPSTREAM_TIMEOUT_MS, error)
        reply.request.upstreamOutcome = failure.outcome
        reply.request.log.warn(
          { upstream: upstream.name, cause: String(error.cause ?? error.message) },
          failure.message,
        )
        reply.code(failure.statusCode).send(errorBody(failure.statusCode, failure.message, failure.code, upstream.name))
      },
    },
  })
}
