import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import closeWithGrace from 'close-with-grace'
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify'
import fp from 'fastify-plugin'
import type { DestinationStream } from 'pino'
import type { TObject } from 'typebox'
import { canonicalPaths } from './canonical-path.js'
import type { BaseConfig } from './config.js'
import { ConfigError, loadConfig } from './config.js'
import { limitConnectionsPerClient } from './connection-limits.js'
import { describeValidationErrors, errorHandling, errorServerOptions } from './errors.js'
import { health, turnAwayWhileClosing } from './health.js'
import { jsonBody } from './json-body.js'
import { loadShedding } from './load-shedding.js'
import { loggerOptions, requestIdFrom, requestLogging, standardOutput } from './logging.js'
import { metrics } from './metrics.js'
import { type OpenApiOptions, openapi } from './openapi.js'
import { validatorCompiler } from './validation.js'

export interface ServiceDefinition<Config extends BaseConfig> {
  /** Short name used in logs and error messages: "movies", "gateway"… */
  name: string
  /** Its settings: read from the environment, defaults applied, checked (the schema of `Config`). */
  configSchema: TObject
  openapi: OpenApiOptions
  /** The service itself: its app plugins, then its routes. */
  app: FastifyPluginAsyncTypebox<{ config: Config }>
  /** Extra Fastify server options from the config, e.g. a body limit. */
  serverOptions?: (config: Config) => Partial<FastifyServerOptions>
  /** Client addresses MAX_CONNECTIONS_PER_CLIENT does not count: proxies that many people come through. */
  connectionLimitExempt?: (config: Config) => (address: string) => boolean
  /** Where `GET /metrics` listens when it has a port of its own rather than the app's (the gateway's). */
  metricsServer?: (config: Config) => { host: string; port: number }
}

/** A route's own options (`config` in its route options) that the kit reads. */
interface RouteObservability {
  /** false for probes and /metrics: not counted in metrics, their access lines at trace only. */
  observe?: boolean
}

declare module 'fastify' {
  interface FastifyContextConfig extends RouteObservability {}
}

// Node looks for connections past their header or request deadline this often (its default, 30 s,
// would let a slow client stay that much longer than the timeouts say).
const CONNECTIONS_CHECKING_INTERVAL_MS = 1_000
// Opening the database comes before the wait for it: creating a fresh PGlite directory takes
// seconds, far more on a busy machine.
const DATABASE_OPENING_ALLOWANCE_MS = 60_000
// Fastify's own default, for services without a database.
const DEFAULT_PLUGIN_TIMEOUT_MS = 10_000
// After the grace period, the time the close has to end once the connections are cut (pools and
// the database closed) before the process exits anyway: well within the 1 s more that Compose and
// Kubernetes wait before SIGKILL.
const CLOSING_ALLOWANCE_MS = 500

/**
 * How long one plugin may take to start. The database plugin waits up to
 * DATABASE_STARTUP_TIMEOUT_MS for its database, so Fastify must wait longer than that (with
 * Fastify's 10 s, a first start on a busy machine failed with "Plugin did not start in time").
 */
export function pluginTimeoutOf(config: BaseConfig): number {
  if (config.DATABASE_STARTUP_TIMEOUT_MS === undefined) return DEFAULT_PLUGIN_TIMEOUT_MS
  return config.DATABASE_STARTUP_TIMEOUT_MS + DATABASE_OPENING_ALLOWANCE_MS
}

/** Timeouts and a connection cap, so that slow or idle clients cannot hold the server's connections. */
function connectionLimits(config: BaseConfig) {
  return {
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    connectionTimeout: config.CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    http: {
      ...errorServerOptions.http,
      // Node refuses a header deadline later than the request deadline.
      headersTimeout: Math.min(config.HEADERS_TIMEOUT_MS, config.REQUEST_TIMEOUT_MS),
      requestTimeout: config.REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
    },
  }
}

/** A service's settings from `env`, as its definition's schema reads them. */
export function loadServiceConfig<Config extends BaseConfig>(
  definition: ServiceDefinition<Config>,
  env: NodeJS.ProcessEnv = process.env,
): Config {
  // The definition pairs the schema with Config: each service declares both from one schema.
  return loadConfig(definition.configSchema, env) as Config
}

/**
 * Builds a service without listening (tests call this and use `inject`): the shared plugins
 * every service has (errors, request ids and logs, canonical paths, metrics, probes, load shedding, OpenAPI),
 * then its own app.
 */
export async function buildService<Config extends BaseConfig>(
  definition: ServiceDefinition<Config>,
  config: Config,
  options: { logStream?: DestinationStream } = {},
): Promise<FastifyInstance> {
  const logger = loggerOptions(definition.name, config.LOG_LEVEL, options.logStream ? false : undefined)
  const fastify = Fastify({
    // A transport (pino-pretty) has its own stream.
    logger: logger.transport ? logger : { ...logger, stream: options.logStream ?? standardOutput() },
    genReqId: requestIdFrom,
    requestIdHeader: false,
    // One access-log line per request comes from requestLogging instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    schemaErrorFormatter: describeValidationErrors,
    pluginTimeout: pluginTimeoutOf(config),
    // turnAwayWhileClosing answers instead, with a mark callers act on.
    return503OnClosing: false,
    ...errorServerOptions,
    ...connectionLimits(config),
    ...definition.serverOptions?.(config),
  }).withTypeProvider<TypeBoxTypeProvider>()
  fastify.server.maxConnections = config.MAX_CONNECTIONS
  const exempt = definition.connectionLimitExempt?.(config) ?? (() => false)
  limitConnectionsPerClient(fastify.server, config.MAX_CONNECTIONS_PER_CLIENT, exempt)
  fastify.setValidatorCompiler(validatorCompiler)

  // OpenAPI first: it documents the routes registered after it.
  await fastify.register(openapi, definition.openapi)
  await fastify.register(errorHandling)
  await fastify.register(jsonBody)
  await fastify.register(requestLogging, { accessLogLevel: config.ACCESS_LOG_LEVEL })
  // After request logging, so that even a turned-away request's answer carries its id.
  await fastify.register(turnAwayWhileClosing, { service: definition.name })
  // Before the app's hooks (the gateway's rate limits): they judge the path the service will route.
  await fastify.register(canonicalPaths)
  await fastify.register(metrics, { ownServer: Boolean(definition.metricsServer) })
  await fastify.register(health)
  // Not encapsulated (as in fastify/demo): the app's hooks also cover the 404 handler.
  try {
    await fastify.register(fp(definition.app), { config })
  } catch (error) {
    // A start the app refuses (users: a listed administrator that is not one) still closes what
    // it opened: its database, and the lock on its data directory.
    await fastify.close()
    throw error
  }
  // Last, so that the app's start-up work (opening a database) is not measured as load.
  await fastify.register(loadShedding, { service: definition.name, config })
  return fastify
}

interface ListenAddress {
  host: string
  port: number
  /** The setting that chose the port, named when it is taken. */
  setting: string
}

function describeStartupError(name: string, address: ListenAddress, error: unknown): string {
  const { host, port, setting } = address
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'EADDRINUSE') return `${name}: port ${port} is already in use; stop what holds it or set ${setting}`
  if (code === 'EACCES') return `${name}: not allowed to listen on ${host}:${port}`
  if (code === 'EADDRNOTAVAIL') return `${name}: cannot listen on ${host}, no such address here`
  return `${name}: failed to start: ${error instanceof Error ? error.message : String(error)}`
}

/**
 * Runs a service as a process: load config, build, listen, and on SIGTERM/SIGINT stop taking
 * work (`/readyz` turns 503), let requests in flight finish, close pools, exit 0 within the grace
 * period (connections still open then are cut; exit 1 if the close has still not ended
 * CLOSING_ALLOWANCE_MS later).
 * Start-up failures print one line and exit 1.
 */
export async function runService<Config extends BaseConfig>(definition: ServiceDefinition<Config>): Promise<void> {
  let config: Config
  try {
    config = loadServiceConfig(definition)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`${definition.name}: ${error.message}\n`)
    process.exit(1)
  }

  let app: FastifyInstance
  let address: ListenAddress = { host: config.HOST, port: config.PORT, setting: 'PORT' }
  try {
    app = await buildService(definition, config)
    await app.listen({ host: address.host, port: address.port })
    if (app.metricsServer && definition.metricsServer) {
      address = { ...definition.metricsServer(config), setting: 'METRICS_PORT' }
      const url = await app.metricsServer.listen({ host: address.host, port: address.port })
      app.log.info(`metrics on a port of their own: ${url}/metrics`)
    }
  } catch (error) {
    process.stderr.write(`${describeStartupError(definition.name, address, error)}\n`)
    process.exit(1)
  }

  // Requests in flight have SHUTDOWN_GRACE_MS. Then the connections still open (a slow client, a
  // body that never comes) are cut, so that the close can end with the database closed; whatever
  // still holds the process CLOSING_ALLOWANCE_MS later (a peer that does not answer) does not keep it.
  const exitDelay = config.SHUTDOWN_GRACE_MS + CLOSING_ALLOWANCE_MS
  const onTimeout = () => app.log.error(`not stopped ${exitDelay} ms after the signal: exiting`)
  closeWithGrace({ delay: exitDelay, logger: false, onTimeout }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'closing after an unexpected error')
    else app.log.info({ signal }, 'shutting down: finishing requests in flight')
    const graceOver = setTimeout(() => {
      app.log.warn('grace period over: closing the connections still open')
      for (const server of [app.server, app.metricsServer?.server]) server?.closeAllConnections()
    }, config.SHUTDOWN_GRACE_MS)
    await app.close()
    clearTimeout(graceOver)
    app.log.info('stopped')
  })
}
