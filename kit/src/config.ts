import { type Static, type TObject, type TProperties, Type } from 'typebox'
import { Value } from 'typebox/value'
import { ConnectionSettings } from './connection-limits.js'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
type LogLevel = (typeof LOG_LEVELS)[number]
const logLevel = (fallback: LogLevel, description: string) => Type.Enum(LOG_LEVELS, { default: fallback, description })

/** Settings every service and the gateway read from the environment. */
export function serviceConfigSchema<Extra extends TProperties>(defaultPort: number, extra: Extra) {
  return Type.Object({
    HOST: Type.String({ default: '127.0.0.1', description: 'interface to listen on' }),
    PORT: Type.Integer({ minimum: 0, maximum: 65535, default: defaultPort }),
    LOG_LEVEL: logLevel('info', 'least severe level logged'),
    ACCESS_LOG_LEVEL: logLevel(
      'debug',
      'level of the one line logged per request; info shows every request at the default LOG_LEVEL',
    ),
    SHUTDOWN_GRACE_MS: Type.Integer({
      minimum: 0,
      default: 10_000,
      description: 'how long in-flight requests may take to finish after SIGTERM',
    }),
    // Load shedding (503 with Retry-After, /readyz not ready) while over any of these; 0 turns one off.
    OVERLOAD_EVENT_LOOP_DELAY_MS: Type.Integer({
      minimum: 0,
      default: 1_000,
      description: 'overloaded while the event loop lags more than this, on average over a second',
    }),
    OVERLOAD_HEAP_PERCENT: Type.Integer({
      minimum: 0,
      maximum: 100,
      default: 90,
      description: "overloaded while the JavaScript heap in use is above this share of V8's heap limit",
    }),
    OVERLOAD_RSS_PERCENT: Type.Integer({
      minimum: 0,
      maximum: 100,
      default: 90,
      description:
        "overloaded while resident memory is above this share of the container's memory limit (else the machine's)",
    }),
    // Slow clients: each limit below frees a connection that a client holds without finishing.
    REQUEST_TIMEOUT_MS: Type.Integer({
      minimum: 1,
      default: 10_000,
      description: 'longest time a client may take to send a whole request, headers and body (408 after it)',
    }),
    HEADERS_TIMEOUT_MS: Type.Integer({
      minimum: 1,
      default: 5_000,
      description: 'longest time a client may take to send the headers of a request (at most REQUEST_TIMEOUT_MS)',
    }),
    KEEP_ALIVE_TIMEOUT_MS: Type.Integer({
      minimum: 1,
      default: 5_000,
      description: 'how long an idle keep-alive connection is kept open for a next request',
    }),
    CONNECTION_TIMEOUT_MS: Type.Integer({
      minimum: 1,
      default: 30_000,
      description:
        'a connection with no traffic either way for this long is closed; above the slowest answer (UPSTREAM_TIMEOUT_MS, PEER_TIMEOUT_MS)',
    }),
    MAX_CONNECTIONS: Type.Integer({
      minimum: 1,
      default: 512,
      description: 'open client connections at most; further ones are closed at once',
    }),
    ...ConnectionSettings,
    ...extra,
  })
}

export interface BaseConfig {
  HOST: string
  PORT: number
  LOG_LEVEL: LogLevel
  ACCESS_LOG_LEVEL: LogLevel
  SHUTDOWN_GRACE_MS: number
  OVERLOAD_EVENT_LOOP_DELAY_MS: number
  OVERLOAD_HEAP_PERCENT: number
  OVERLOAD_RSS_PERCENT: number
  REQUEST_TIMEOUT_MS: number
  HEADERS_TIMEOUT_MS: number
  KEEP_ALIVE_TIMEOUT_MS: number
  CONNECTION_TIMEOUT_MS: number
  MAX_CONNECTIONS: number
  MAX_CONNECTIONS_PER_CLIENT: number
  /** Only services that own a database have it; start-up waits this long for it. */
  DATABASE_STARTUP_TIMEOUT_MS?: number
}

/** A comma-separated setting as its items. */
export function items(setting: string): string[] {
  return setting
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/**
 * Reads the schema's variables from `env`, applies defaults, converts strings to the declared
 * types and rejects anything invalid with one message naming every bad variable.
 */
export function loadConfig<Schema extends TObject>(
  schema: Schema,
  env: NodeJS.ProcessEnv = process.env,
): Static<Schema> {
  const raw: Record<string, unknown> = {}
  for (const key of Object.keys(schema.properties)) {
    const value = env[key]
    if (value !== undefined && value !== '') raw[key] = value
  }
  const value = Value.Convert(schema, Value.Default(schema, raw))
  if (Value.Check(schema, value)) return value as Static<Schema>
  const problems = Value.Errors(schema, value).map((error) => {
    const name = error.instancePath.replace(/^\//, '') || describeMissing(error.params)
    const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues
    return `${name} ${error.message}${allowed ? ` (${allowed.join(', ')})` : ''}`
  })
  throw new ConfigError(`invalid configuration: ${problems.join('; ')}`)
}

function describeMissing(params: object): string {
  const required = (params as { requiredProperties?: string[] }).requiredProperties
  return required ? required.join(', ') : 'config'
}
