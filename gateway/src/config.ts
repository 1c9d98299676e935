import { loadConfig, peerUrl, serviceConfigSchema } from '@cinema/kit'
import { type Static, Type } from 'typebox'

export const GatewayConfig = serviceConfigSchema(8080, {
  USERS_URL: peerUrl('users', 5000),
  MOVIES_URL: peerUrl('movies', 5001),
  SHOWTIMES_URL: peerUrl('showtimes', 5002),
  BOOKINGS_URL: peerUrl('bookings', 5003),
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
  UPSTREAM_CONNECTIONS: Type.Integer({ minimum: 1, default: 128, description: 'keep-alive connections per service' }),
})
export type GatewayConfig = Static<typeof GatewayConfig>

export const loadGatewayConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(GatewayConfig, env)

/** The services behind the gateway: each owns the paths under `/<name>`. */
export function upstreamsOf(config: GatewayConfig) {
  return [
    { name: 'users', url: config.USERS_URL },
    { name: 'movies', url: config.MOVIES_URL },
    { name: 'showtimes', url: config.SHOWTIMES_URL },
    { name: 'bookings', url: config.BOOKINGS_URL },
  ] as const
}
export type Upstream = ReturnType<typeof upstreamsOf>[number]
