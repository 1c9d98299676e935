import type { IncomingHttpHeaders } from 'node:http'
import { errorBody, type PeerOutcome } from '@cinema/kit'
import proxy from '@fastify/http-proxy'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { GatewayConfig, Upstream } from './config.js'

// RFC 9110 §7.6.1: meaningful for one connection only, never forwarded.
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'upgrade']
const CONNECT_FAILURES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
])

function withoutHopByHop<Headers extends IncomingHttpHeaders>(headers: Headers): Headers {
  const kept = { ...headers }
  for (const name of [...HOP_BY_HOP, ...String(headers.connection ?? '').split(',')])
    delete kept[name.trim().toLowerCase()]
  return kept
}

/** What the service behind the gateway is told about the original request. */
export function forwardedRequestHeaders(
  request: Pick<FastifyRequest, 'id' | 'ip' | 'protocol' | 'host'>,
  headers: IncomingHttpHeaders,
): IncomingHttpHeaders {
  const forwarded = withoutHopByHop(headers)
  const priorHops = headers['x-forwarded-for']
  forwarded['x-forwarded-for'] = priorHops ? `${priorHops}, ${request.ip}` : request.ip
  forwarded['x-forwarded-proto'] = request.protocol
  // headers.host already names the upstream here; the client's Host is the request's own.
  forwarded['x-forwarded-host'] = request.host
  forwarded['x-request-id'] = request.id
  return forwarded
}

interface UpstreamFailure {
  statusCode: 502 | 503 | 504
  outcome: PeerOutcome
  message: string
}

/** Why reply-from could not get an answer, said as the client should read it. */
export function describeUpstreamError(name: string, timeoutMs: number, error: Error): UpstreamFailure {
  const { code, statusCode, cause } = error as Error & { code?: string; statusCode?: number; cause?: { code?: string } }
  const rootCode = cause?.code ?? code ?? ''
  if (CONNECT_FAILURES.has(rootCode) || rootCode === 'UND_ERR_CONNECT_TIMEOUT' || statusCode === 503) {
    return { statusCode: 503, outcome: 'unavailable', message: `${name} service is unavailable` }
  }
  if (statusCode === 504) {
    return { statusCode: 504, outcome: 'timeout', message: `${name} service did not answer within ${timeoutMs} ms` }
  }
  return { statusCode: 502, outcome: 'server_error', message: `${name} service sent an invalid answer` }
}

declare module 'fastify' {
  interface FastifyRequest {
    upstreamOutcome: PeerOutcome | null
  }
}

function outcomeOf(reply: FastifyReply): PeerOutcome {
  if (reply.request.upstreamOutcome) return reply.request.upstreamOutcome
  return reply.statusCode >= 500 ? 'server_error' : reply.statusCode >= 400 ? 'client_error' : 'success'
}

/** Forwards `/<name>` and everything below it, path and query unchanged, to the service. */
export async function upstreamProxy(fastify: FastifyInstance, options: { upstream: Upstream; config: GatewayConfig }) {
  const { upstream, config } = options
  fastify.decorateRequest('upstreamOutcome', null)

  fastify.addHook('onResponse', async (request, reply) => {
    fastify.metrics.peerRequestDuration.observe(
      { peer: upstream.name, method: request.method, outcome: outcomeOf(reply) },
      reply.elapsedTime / 1000,
    )
  })

  await fastify.register(proxy, {
    upstream: upstream.url,
    prefix: `/${upstream.name}`,
    rewritePrefix: `/${upstream.name}`,
    disableRequestLogging: true,
    // Bodies are parsed here, so the gateway's body limit holds (a streamed body would bypass it).
    proxyPayloads: false,
    // OPTIONS is answered by the CORS plugin; the services have no OPTIONS routes.
    httpMethods: ['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE'],
    undici: {
      connections: config.UPSTREAM_CONNECTIONS,
      pipelining: 1,
      connect: { timeout: config.UPSTREAM_CONNECT_TIMEOUT_MS },
      headersTimeout: config.UPSTREAM_TIMEOUT_MS,
      bodyTimeout: config.UPSTREAM_TIMEOUT_MS,
    },
    replyOptions: {
      rewriteRequestHeaders: forwardedRequestHeaders,
      rewriteHeaders: (headers) => {
        const { 'x-powered-by': _poweredBy, ...kept } = withoutHopByHop(headers)
        return kept
      },
      onError: (reply, { error }) => {
        const failure = describeUpstreamError(upstream.name, config.UPSTREAM_TIMEOUT_MS, error)
        reply.request.upstreamOutcome = failure.outcome
        reply.request.log.warn(
          { upstream: upstream.name, cause: String(error.cause ?? error.message) },
          failure.message,
        )
        reply.code(failure.statusCode).send(errorBody(failure.statusCode, failure.message))
      },
    },
  })
}
