import {
  AuthSettings,
  ClientAddressSettings,
  EdgeConnectionSettings,
  MetricsServerSettings,
  PeerSettings,
  peerUrl,
  SERVICES,
  serviceConfigSchema,
} from '@cinema/kit'
import { type Static, Type } from 'typebox'

const list = (description: string, fallback: string) => Type.String({ default: fallback, description })

export const GatewayConfig = serviceConfigSchema(SERVICES.gateway.port, {
  USERS_URL: peerUrl('users'),
  MOVIES_URL: peerUrl('movies'),
  SHOWTIMES_URL: peerUrl('showtimes'),
  BOOKINGS_URL: peerUrl('bookings'),
  // The gateway is the edge: one client holds a few connections at most (its trusted proxies, many).
  ...EdgeConnectionSettings,
  // The gateway is the edge: /metrics is served on an operations port of its own, not to the world.
  ...MetricsServerSettings,
  UPSTREAM_CONNECT_TIMEOUT_MS: Type.Integer({
    minimum: 1,
    default: 1_000,
    description: 'connect timeout to a service',
  }),
  UPSTREAM_TIMEOUT_MS: Type.Integer({
    minimum: 1,
    default: 10_000,
    description: 'longest wait for a service to answer before 504',
  }),
  UPSTREAM_CONNECTIONS: Type.Integer({
    minimum: 1,
    default: 128,
    description: 'keep-alive connections per service replica',
  }),
  REPLICA_REFRESH_MS: PeerSettings.REPLICA_REFRESH_MS,
  RATE_LIMIT_MAX: Type.Integer({ minimum: 1, default: 600, description: 'requests per client per window' }),
  RATE_LIMIT_WINDOW_MS: Type.Integer({ minimum: 1, default: 60_000, description: 'rate-limit window' }),
  PASSWORD_RATE_LIMIT_MAX: Type.Integer({
    minimum: 1,
    default: 20,
    description: 'sign-ins and sign-ups (POST /auth/token, /auth/session, /users) per client per window',
  }),
  RATE_LIMIT_ALLOW: ClientAddressSettings.RATE_LIMIT_ALLOW,
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1, default: 1_048_576, description: 'largest request body (413 above)' }),
  CORS_ORIGINS: list('comma-separated origins allowed to call the API from a browser; empty: none', ''),
  ...AuthSettings,
  TRUST_PROXY: ClientAddressSettings.TRUST_PROXY,
})
export type GatewayConfig = Static<typeof GatewayConfig>

/**
 * The services behind the gateway: each owns the paths under its prefixes, `/<name>` and, for
 * users, sign-in (`/auth/token`) and its public keys (`/.well-known/jwks.json`).
 */
export function upstreamsOf(config: GatewayConfig) {
  return [
    { name: 'users', url: config.USERS_URL, prefixes: ['/users', '/auth', '/.well-known'] },
    { name: 'movies', url: config.MOVIES_URL, prefixes: ['/movies'] },
    { name: 'showtimes', url: config.SHOWTIMES_URL, prefixes: ['/showtimes'] },
    { name: 'bookings', url: config.BOOKINGS_URL, prefixes: ['/bookings'] },
  ] as const
}
export type Upstream = ReturnType<typeof upstreamsOf>[number]
