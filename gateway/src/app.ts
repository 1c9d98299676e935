import {
  allowListed,
  indexRoute,
  items,
  RemoteKeySet,
  type ServiceDefinition,
  TokenVerifier,
  trustedProxies,
} from '@cinema/kit'
import { GatewayConfig, upstreamsOf } from './config.js'
import { hardening } from './hardening.js'
import { upstreamProxy } from './proxy.js'
import { docsRoutes } from './routes/docs.js'
import { sessionRoutes } from './routes/session.js'
import { statusRoutes } from './routes/status.js'
import { identityClient, upstreamClients } from './upstream-clients.js'

export const gatewayService: ServiceDefinition<GatewayConfig> = {
  name: 'gateway',
  configSchema: GatewayConfig,
  openapi: { title: 'Cinema gateway', description: 'One entry point for every Cinema service.', bearerAuth: true },
  serverOptions: (config) => ({
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: trustedProxies(items(config.TRUST_PROXY)),
  }),
  // Its proxies (the UI's nginx or Node server) bring every visitor through one address, and count
  // each visitor's connections themselves; so do load tests from the rate limit's allow-list.
  connectionLimitExempt: (config) => {
    const allowed = allowListed(config.RATE_LIMIT_ALLOW)
    const trusted = trustedProxies(items(config.TRUST_PROXY))
    return (address) => allowed(address) || (trusted !== false && trusted(address, 0))
  },
  metricsServer: (config) => ({ host: config.METRICS_HOST, port: config.METRICS_PORT }),
  app: async (fastify, { config }) => {
    const upstreams = upstreamsOf(config)
    await fastify.register(hardening, { config })
    await fastify.register(indexRoute, {
      subresources: {
        ...Object.fromEntries(upstreams.map(({ name }) => [name, `/${name}`])),
        status: '/status',
        docs: '/docs',
      },
    })
    const clients = upstreamClients(fastify, upstreams, config)
    const users = identityClient(fastify, config.USERS_URL, config)
    // Tokens are checked here against the users service's published keys, before anything is forwarded.
    const verifier = new TokenVerifier(new RemoteKeySet(users), {
      issuer: config.TOKEN_ISSUER,
      audience: config.TOKEN_AUDIENCE,
    })
    await fastify.register(statusRoutes, { clients })
    await fastify.register(docsRoutes, { clients, upstreams })
    await fastify.register(sessionRoutes, { users, verifier })
    for (const upstream of upstreams) await fastify.register(upstreamProxy, { upstream, config, verifier })
  },
}
