import { carriesPassword, HttpError, perClientRateLimit } from '@cinema/kit'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { UsersConfig } from './config.js'

/**
 * Whether the request makes this service hash a password: sign-in, sign-up, and a change to or
 * deletion of a user that carries a password or the current one. Judged on the route it matched
 * and its parsed body.
 */
function hashesPassword(request: FastifyRequest): boolean {
  const route = request.routeOptions.url
  if (request.method === 'POST') return route === '/auth/token' || route === '/users'
  const changesUser = (request.method === 'PATCH' || request.method === 'DELETE') && route === '/users/:username'
  return changesUser && carriesPassword(request.body)
}

/**
 * A per-client budget of what hashes a password, as the gateway keeps: this port can be reached
 * without it. Clients are told apart by their address (X-Forwarded-For from TRUST_PROXY only).
 * Over budget: 429 RATE_LIMITED with Retry-After, before anything is hashed.
 */
export const passwordBudget = fp(
  async (fastify: FastifyInstance, { config }: { config: UsersConfig }) => {
    await fastify.register(rateLimit, {
      global: false,
      max: config.PASSWORD_RATE_LIMIT_MAX,
      timeWindow: config.PASSWORD_RATE_LIMIT_WINDOW_MS,
      ...perClientRateLimit(config.RATE_LIMIT_ALLOW),
    })
    const limit = fastify.createRateLimit()
    // After the body is parsed (whether a PATCH or DELETE carries a password is in it); a callback
    // hook, so that every other request passes at once, without a promise.
    fastify.addHook('preHandler', (request, _reply, done) => {
      if (!hashesPassword(request)) return done()
      limit(request).then((result) => {
        if (result.isAllowed || !result.isExceeded) return done()
        const retryAfter = Math.max(1, Math.ceil(result.ttl / 1000))
        done(
          new HttpError(429, `too many password checks from this client; retry in ${retryAfter} s`, {
            code: 'RATE_LIMITED',
            headers: { 'retry-after': String(retryAfter) },
          }),
        )
      }, done)
    })
  },
  { name: 'users-password-budget' },
)
