import swagger from '@fastify/swagger'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Type } from 'typebox'

export interface OpenApiOptions {
  title: string
  description: string
  version?: string
  /** Whether some operations need a bearer token: declares the `bearerAuth` scheme they name. */
  bearerAuth?: boolean
}

/** The service's OpenAPI 3 document, generated from its route schemas, at `GET /openapi.json`. */
export const openapi = fp(
  async (fastify: FastifyInstance, options: OpenApiOptions) => {
    await fastify.register(swagger, {
      // Routes without any schema are plumbing (the gateway's proxy catch-alls, static files),
      // documented by their owners; everything with a schema is listed.
      transform: ({ schema, url }) => ({ schema: schema ?? { hide: true }, url }),
      openapi: {
        openapi: '3.1.0',
        info: { title: options.title, description: options.description, version: options.version ?? '1.0.0' },
        ...(options.bearerAuth
          ? {
              components: {
                securitySchemes: {
                  bearerAuth: {
                    type: 'http',
                    scheme: 'bearer',
                    bearerFormat: 'JWT',
                    description: 'a token from POST /auth/token, valid for at most an hour',
                  },
                },
              },
            }
          : {}),
      },
    })
    fastify.get(
      '/openapi.json',
      {
        config: { observe: false },
        schema: { hide: true, response: { 200: Type.Object({}, { additionalProperties: true }) } },
      },
      async () => fastify.swagger(),
    )
  },
  { name: 'cinema-openapi' },
)
