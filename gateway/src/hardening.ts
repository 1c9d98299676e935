import { errorBody } from '@cinema/kit'
import cors from '@fastify/cors'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { type GatewayConfig, items } from './config.js'

/** What an edge needs: security headers, CORS closed by default, a per-client rate limit. */
export const hardening = fp(
  async (fastify: FastifyInstance, { config }: { config: GatewayConfig }) => {
    await fastify.register(helmet, { global: true })

    const origins = items(config.CORS_ORIGINS)
    await fastify.register(cors, {
      origin: origins.length > 0 ? origins : false,
      methods: ['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE'],
    })

    const allowed = new Set(items(config.RATE_LIMIT_ALLOW))
    await fastify.register(rateLimit, {
      max: config.RATE_LIMIT_MAX,
      timeWindow: config.RATE_LIMIT_WINDOW_MS,
      // Probes and metrics are never limited: an orchestrator must always be able to ask.
      allowList: (request) => allowed.has(request.ip) || request.routeOptions.config.observe === false,
      errorResponseBuilder: (_request, context) => ({
        ...errorBody(429, `too many requests; retry in ${Math.ceil(context.ttl / 1000)} s`),
        // The plugin throws what this returns; the status travels with it to the error handler.
        statusCode: 429,
      }),
    })
  },
  { name: 'gateway-hardening' },
)
