import { readdirSync } from 'node:fs'
import { errorBody, forwardableRequestHeaders, HttpError, REQUEST_ID_HEADER, type ServiceDefinition } from '@cinema/kit'
import proxy from '@fastify/http-proxy'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'
import { UiConfig } from './config.js'
import { HASHED_ASSET_CACHING, PAGE_CACHE_CONTROL, SECURITY_HEADERS } from './headers.js'

/** `/api/…` goes to the gateway without the `/api` prefix, as nginx forwards it in the container. */
async function gatewayProxy(fastify: FastifyInstance, { gatewayUrl }: { gatewayUrl: string }) {
  // Bodies pass through unparsed (the proxy adds its own parser); the gateway parses them.
  fastify.removeContentTypeParser('application/json')
  // The gateway answers a body over its limit (the same 1 MiB) with 413 and closes the connection
  // while the body is still being sent, which the proxy could only report as a 502 blaming the
  // gateway: a body declared larger is refused here first, as nginx's client_max_body_size does.
  const { bodyLimit } = fastify.initialConfig
  fastify.addHook('onRequest', async (request) => {
    if (bodyLimit !== undefined && Number(request.headers['content-length']) > bodyLimit) {
      throw new HttpError(413, `the request body is larger than ${bodyLimit} bytes`, { code: 'BODY_TOO_LARGE' })
    }
  })
  await fastify.register(proxy, {
    upstream: gatewayUrl,
    prefix: '/api',
    rewritePrefix: '/',
    disableRequestLogging: true,
    replyOptions: {
      // A 503 passes through at once, as the gateway's own does: reply-from would retry a GET's
      // 503 up to ten times (1.2 s with movies down, where the gateway answers in 3 ms).
      retryDelay: () => null,
      // Without hop-by-hop headers and `Expect`, which undici refuses to send (each was a 502
      // blaming the gateway). The gateway keeps a well-formed incoming id, so one id follows the
      // call through every log. X-Forwarded-For and -Host are this server's own view of the
      // client, any claimed ones replaced (nothing in front of it is trusted), as nginx sets them:
      // the gateway, which believes them from here, counts each visitor apart, not as one loopback
      // client its allow-list exempts. X-Forwarded-Proto passes as nginx passes it (a TLS proxy's).
      rewriteRequestHeaders: (request, headers) => ({
        ...forwardableRequestHeaders(headers),
        'x-forwarded-for': request.ip,
        'x-forwarded-host': request.host,
        [REQUEST_ID_HEADER]: request.id,
        // Where the browser sees the gateway: the session cookie paths it clears are under it.
        'x-forwarded-prefix': '/api',
      }),
      // This origin's security headers are the UI's, whatever the gateway sets for its own clients.
      rewriteHeaders: (headers) => {
        const kept = { ...headers }
        for (const name of Object.keys(SECURITY_HEADERS)) delete kept[name]
        return kept
      },
      onError: (reply, { error }) => {
        reply.request.log.warn({ cause: String(error.cause ?? error.message) }, 'gateway is unavailable')
        reply.code(502).send(errorBody(502, 'gateway is unavailable', 'PEER_UNAVAILABLE', 'gateway'))
      },
    },
  })
}

function builtFilesIn(root: string): string[] {
  try {
    return readdirSync(root, { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name)
  } catch (error) {
    throw new Error(`no web app in ${root}: build it first with \`npm run build -w ui\``, { cause: error })
  }
}

/**
 * The built web app: hashed assets cached for good, any other existing file as is, and every other
 * path answered with index.html so that page URLs (`/movies`, `/bookings/x`) survive a reload.
 */
async function webApp(fastify: FastifyInstance, { root }: { root: string }) {
  const topLevelFiles = new Set(builtFilesIn(root))
  await fastify.register(fastifyStatic, { root, serve: false })

  fastify.get<{ Params: { '*': string } }>('/assets/*', (request, reply) =>
    reply.sendFile(`assets/${request.params['*']}`, HASHED_ASSET_CACHING),
  )
  fastify.get<{ Params: { '*': string } }>('/*', (request, reply) => {
    const file = request.params['*']
    return reply
      .header('cache-control', PAGE_CACHE_CONTROL)
      .sendFile(topLevelFiles.has(file) ? file : 'index.html', { cacheControl: false })
  })
}

export const uiService: ServiceDefinition<UiConfig> = {
  name: 'ui',
  configSchema: UiConfig,
  openapi: { title: 'Cinema UI', description: 'The web app, and its `/api/` way to the gateway.' },
  app: async (fastify, { config }) => {
    fastify.addHook('onRequest', async (_request, reply) => {
      reply.headers(SECURITY_HEADERS)
    })
    await fastify.register(gatewayProxy, { gatewayUrl: config.GATEWAY_URL })
    await fastify.register(webApp, { root: config.UI_STATIC_DIR })
  },
}
