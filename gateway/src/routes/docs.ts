import { ErrorResponse, HttpError, type PeerClient } from '@cinema/kit'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Upstream } from '../config.js'

type OpenApiDocument = { paths?: Record<string, unknown>; servers?: unknown[] }

/**
 * `GET /docs`: one interactive page with the OpenAPI documents of the gateway and of every
 * service, each service's reduced to the paths the gateway routes, so "Try it out" goes through it.
 */
export const docsRoutes: FastifyPluginAsyncTypebox<{
  clients: Map<string, PeerClient>
  upstreams: readonly Upstream[]
}> = async (fastify, { clients, upstreams }) => {
  const prefixesOf = new Map<string, readonly string[]>(upstreams.map(({ name, prefixes }) => [name, prefixes]))
  fastify.get(
    '/docs/services/:service',
    {
      schema: {
        operationId: 'getServiceOpenApi',
        tags: ['docs'],
        summary: 'A service’s OpenAPI document, as reachable through the gateway',
        params: Type.Object({ service: Type.String({ description: 'users.json, movies.json, …' }) }),
        response: {
          200: Type.Object({}, { additionalProperties: true }),
          404: ErrorResponse,
          503: ErrorResponse,
          504: ErrorResponse,
        },
      },
    },
    async (request) => {
      const name = request.params.service.replace(/\.json$/, '')
      const client = clients.get(name)
      const prefixes = prefixesOf.get(name)
      if (!client || !prefixes) throw new HttpError(404, `no service named ${name}`, { code: 'NOT_FOUND' })
      const document = await client.getJson<OpenApiDocument>('/openapi.json')
      if (!document)
        throw new HttpError(503, `${name} service has no OpenAPI document`, {
          code: 'PEER_UNAVAILABLE',
          service: name,
          expose: true,
        })
      const routed = Object.entries(document.paths ?? {}).filter(([path]) =>
        prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`)),
      )
      return { ...document, servers: [{ url: '/' }], paths: Object.fromEntries(routed) }
    },
  )

  await fastify.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    uiConfig: {
      // No calls to validator.swagger.io: the page works offline and stays same-origin.
      validatorUrl: null,
      urls: [
        { name: 'gateway', url: '/docs/json' },
        ...[...clients.keys()].map((name) => ({ name, url: `/docs/services/${name}.json` })),
      ],
    },
  })
}
