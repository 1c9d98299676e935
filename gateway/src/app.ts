import { indexRoute, type ServiceDefinition } from '@cinema/kit'
import { GatewayConfig, items, upstreamsOf } from './config.js'
import { hardening } from './hardening.js'
import { upstreamProxy } from './proxy.js'
import { docsRoutes } from './routes/docs.js'
import { statusRoutes } from './routes/status.js'
import { trustedProxies } from './trusted-proxies.js'
import { upstreamClients } from './upstream-clients.js'

export const gatewayService: ServiceDefinition<GatewayConfig> = {
  name: 'gateway',
  configSchema: GatewayConfig,
  openapi: { title: 'Cinema gateway', description: 'One entry point for every Cinema service.' },
  serverOptions: (config) => ({
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: trustedProxies(items(config.TRUST_PROXY)),
  }),
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
    await fastify.register(statusRoutes, { clients })
    await fastify.register(docsRoutes, { clients })
    for (const upstream of upstreams) await fastify.register(upstreamProxy, { upstream, config })
  },
}
