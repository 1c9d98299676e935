import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { type DestinationStream, type LevelWithSilent, type Logger, type LoggerOptions, pino } from 'pino'

export const REQUEST_ID_HEADER = 'x-request-id'

// Ids from outside are echoed into logs and headers, so only short, plain tokens are trusted.
const WELL_FORMED_REQUEST_ID = /^[\w.:@-]{1,128}$/

/** Keeps a well-formed incoming `x-request-id`, or makes a new one. */
export function requestIdFrom(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER]
  return typeof incoming === 'string' && WELL_FORMED_REQUEST_ID.test(incoming) ? incoming : randomUUID()
}

const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'res.headers["set-cookie"]',
  // Secrets in bodies, should a log line ever carry one (none logs a body today). Exact paths
  // only: pino applies these to every child logger's bindings, one per request, and wildcard
  // paths cost the movies service about a sixth of its CPU per request.
  'password',
  'current_password',
  'access_token',
  'body.password',
  'body.current_password',
  'req.body.password',
  'req.body.current_password',
  // A database error carries its query's parameters (PGlite): a password hash among them.
  'err.params',
  'err.parameters',
]

/**
 * Whether a package can be loaded from here. pino-pretty is an optional dependency, for people at
 * a terminal: the images leave it out, and a container run with a TTY logs JSON instead.
 */
export function installed(name: string): boolean {
  try {
    import.meta.resolve(name)
    return true
  } catch {
    return false
  }
}

/**
 * pino options: JSON lines, secrets redacted, human-readable only when `pretty` (by default: stdout
 * is a terminal and pino-pretty is installed).
 */
export function loggerOptions(
  service: string,
  level: string,
  pretty = Boolean(process.stdout.isTTY) && installed('pino-pretty'),
): LoggerOptions {
  return {
    level,
    base: { service },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { ignore: 'pid,hostname,service' } } } : {}),
  }
}

/**
 * Standard output, written synchronously, for JSON lines. pino's default writes asynchronously and
 * flushes what is left when the process exits, in a loop (sonic-boom 4's flushSync) that retries a
 * broken pipe forever: a service whose reader had gone (its launcher or test killed) stopped
 * listening on SIGTERM and then never exited. A synchronous write that meets a broken pipe instead
 * turns logging off (pino's destination), and nothing is left to flush at exit.
 */
export function standardOutput(): DestinationStream {
  return pino.destination({ dest: 1, sync: true })
}

/**
 * The request id echoed to the client, and one access-log line per request (Fastify's own two
 * lines are turned off) at `accessLogLevel`: debug by default, so the hot path writes nothing at
 * the default LOG_LEVEL (failures are logged where they happen); probes only at trace.
 */
export const requestLogging = fp(
  async (fastify: FastifyInstance, { accessLogLevel }: { accessLogLevel: LevelWithSilent }) => {
    // Decided once: levels are fixed at start, and the check is then free on the hot path.
    const logs = (level: LevelWithSilent) => level !== 'silent' && (fastify.log as Logger).isLevelEnabled(level)
    const accessLines = logs(accessLogLevel)
    const probeLines = logs('trace')
    fastify.addHook('onRequest', (request, reply, done) => {
      reply.header(REQUEST_ID_HEADER, request.id)
      done()
    })
    fastify.addHook('onResponse', (request, reply, done) => {
      const probe = request.routeOptions.config.observe === false
      if (probe ? probeLines : accessLines) {
        request.log[probe ? 'trace' : (accessLogLevel as Exclude<LevelWithSilent, 'silent'>)](
          {
            method: request.method,
            url: request.url,
            statusCode: reply.statusCode,
            durationMs: Math.round(reply.elapsedTime * 100) / 100,
          },
          'request completed',
        )
      }
      done()
    })
  },
  { name: 'cinema-request-logging' },
)
