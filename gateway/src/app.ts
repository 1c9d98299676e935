import { indexRoute, type ServiceDefinition } from '@cinema/kit'
import { type GatewayConfig, upstreamsOf } from './config.js'
import { upstreamProxy } from './proxy.js'
import { statusRoutes } from './routes/status.js'

export const gatewayService: ServiceDefinition<GatewayConfig> = {
  name: 'gateway',
  openapi: { title: 'Cinema gateway', description: 'One entry point for every Cinema service.' },
  app: async (fastify, { config }) => {
    const upstreams = upstreamsOf(config)
    await fastify.register(indexRoute, {
      subresources: { ...Object.fromEntries(upstreams.map(({ name }) => [name, `/${name}`])), status: '/status' },
    })
    await fastify.register(statusRoutes, { upstreams, config })
    for (const upstream of upstreams) await fastify.register(upstreamProxy, { upstream, config })
  },
}
