import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Type } from 'typebox'

/** `GET /`: the service's index document, as the original services had it. */
export const indexRoute = fp(
  async (fastify: FastifyInstance, links: { subresources: Record<string, string> }) => {
    const subresources = Object.fromEntries(Object.keys(links.subresources).map((name) => [name, Type.String()]))
    const document = { uri: '/', subresource_uris: links.subresources }
    fastify.get(
      '/',
      {
        schema: {
          operationId: 'getIndex',
          tags: ['index'],
          summary: 'Index of this service’s resources',
          response: {
            200: Type.Object({ uri: Type.Literal('/'), subresource_uris: Type.Object(subresources) }),
          },
        },
      },
      async () => document,
    )
  },
  { name: 'cinema-index-route' },
)
