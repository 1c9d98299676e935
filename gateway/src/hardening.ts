import type { IncomingMessage, ServerResponse } from 'node:http'
import { carriesPassword, HttpError, items, perClientRateLimit } from '@cinema/kit'
import cors from '@fastify/cors'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import helmet from 'helmet'
import type { GatewayConfig } from './config.js'

/**
 * Whether the request makes the users service hash a password: sign-in (token or web session),
 * sign-up, and a change to or deletion of a user that carries a password or the current one.
 * Judged by the route it matched, its decoded path (so `/%75sers` counts as `/users`) and its
 * parsed body.
 */
function hashesPassword(request: FastifyRequest): boolean {
  const route = request.routeOptions.url
  const rest = (request.params as { '*'?: string })['*']
  if (request.method === 'POST')
    return route === '/users' || route === '/auth/session' || (route === '/auth/*' && rest === 'token')
  const changesUser = (request.method === 'PATCH' || request.method === 'DELETE') && route === '/users/*'
  return changesUser && rest !== undefined && !rest.includes('/') && carriesPassword(request.body)
}

/**
 * The headers helmet's defaults (what @fastify/helmet sets) put on a response, worked out once.
 * They never vary here, and running helmet on every request cost about 50 µs of CPU, a third of
 * the gateway's work per proxied call (CPU profile under load, see bench/README.md).
 */
function helmetHeaders(): Record<string, string> {
  const headers: Record<string, string> = {}
  const response = {
    setHeader: (name: string, value: string | number) => {
      headers[name.toLowerCase()] = String(value)
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()]
    },
  }
  helmet()({ headers: {} } as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error
  })
  return headers
}

/** What an edge needs: security headers, CORS closed by default, a per-client rate limit. */
export const hardening = fp(
  async (fastify: FastifyInstance, { config }: { config: GatewayConfig }) => {
    const securityHeaders = helmetHeaders()
    fastify.addHook('onRequest', (_request, reply, done) => {
      reply.headers(securityHeaders)
      done()
    })

    // CORS closed is the absence of CORS headers: the plugin is only needed to let origins in.
    const origins = items(config.CORS_ORIGINS)
    if (origins.length > 0) {
      await fastify.register(cors, { origin: origins, methods: ['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE'] })
    }

    // Every request counts but the allow-list's: probes, /status, /docs and unknown paths too
    // (a 404 is what URL guessing gets). The plugin's own per-route hooks would miss routes
    // registered before it (the kit's probes and /openapi.json) and the 404 handler, so its limiter
    // runs as one hook of the whole app instead.
    await fastify.register(rateLimit, {
      global: false,
      max: config.RATE_LIMIT_MAX,
      timeWindow: config.RATE_LIMIT_WINDOW_MS,
      ...perClientRateLimit(config.RATE_LIMIT_ALLOW),
      // The plugin throws what this returns, for the error handler to answer.
      errorResponseBuilder: (_request, context) =>
        new HttpError(429, `too many requests; retry in ${Math.ceil(context.ttl / 1000)} s`, { code: 'RATE_LIMITED' }),
    })
    fastify.addHook('onRequest', fastify.rateLimit())

    // What checks a password costs the users service ~20 ms of CPU (argon2id): a client may ask for
    // that far less often than for anything else, so that it cannot queue up every sign-in.
    const passwordLimit = fastify.createRateLimit({ max: config.PASSWORD_RATE_LIMIT_MAX })
    // Once the body is parsed (the proxy parses it too: whether a PATCH or DELETE carries a
    // password is in it). A callback hook: every other request passes at once, without a promise.
    fastify.addHook('preHandler', (request, _reply, done) => {
      if (!hashesPassword(request)) return done()
      passwordLimit(request).then((limit) => {
        if (limit.isAllowed || !limit.isExceeded) return done()
        const retryAfter = Math.ceil(limit.ttl / 1000)
        done(
          new HttpError(429, `too many sign-ins and sign-ups; retry in ${retryAfter} s`, {
            code: 'RATE_LIMITED',
            headers: { 'retry-after': String(retryAfter) },
          }),
        )
      }, done)
    })
  },
  { name: 'gateway-hardening' },
)
