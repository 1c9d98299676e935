import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { LoggerOptions } from 'pino'

export const REQUEST_ID_HEADER = 'x-request-id'

// Ids from outside are echoed into logs and headers, so only short, plain tokens are trusted.
const WELL_FORMED_REQUEST_ID = /^[\w.:@-]{1,128}$/

/** Keeps a well-formed incoming `x-request-id`, or makes a new one. */
export function requestIdFrom(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER]
  return typeof incoming === 'string' && WELL_FORMED_REQUEST_ID.test(incoming) ? incoming : randomUUID()
}

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'res.headers["set-cookie"]',
]

/** pino options: JSON lines, secrets redacted, human-readable only when `pretty` (stdout is a terminal). */
export function loggerOptions(service: string, level: string, pretty = Boolean(process.stdout.isTTY)): LoggerOptions {
  return {
    level,
    base: { service },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { ignore: 'pid,hostname,service' } } } : {}),
  }
}

export interface RouteObservability {
  /** false for probes and /metrics: not counted in metrics, logged only at debug. */
  observe?: boolean
}

declare module 'fastify' {
  interface FastifyContextConfig extends RouteObservability {}
}

/**
 * One access-log line per request (Fastify's own two lines are turned off), the request id
 * echoed to the client, and probes kept out of the info log.
 */
export const requestLogging = fp(
  async (fastify: FastifyInstance) => {
    fastify.addHook('onRequest', async (request, reply) => {
      reply.header(REQUEST_ID_HEADER, request.id)
    })
    fastify.addHook('onResponse', async (request, reply) => {
      const level = request.routeOptions.config.observe === false ? 'debug' : 'info'
      request.log[level](
        {
          method: request.method,
          url: request.url,
          statusCode: reply.statusCode,
          durationMs: Math.round(reply.elapsedTime * 100) / 100,
        },
        'request completed',
      )
    })
  },
  { name: 'cinema-request-logging' },
)
