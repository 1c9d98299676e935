export { type BaseConfig, ConfigError, type LogLevel, loadConfig, serviceConfigSchema } from './config.js'
export * as contracts from './contracts.js'
export { readDataFile } from './data-file.js'
export {
  type Database,
  type DatabaseConfig,
  database,
  databaseSettings,
  IN_MEMORY,
  type Migration,
  migrate,
  openDatabase,
  type Queryable,
  seedMigration,
  sqlMigrations,
} from './db.js'
export { ErrorResponse, errorBody, HttpError } from './errors.js'
export { indexRoute } from './index-route.js'
export { loggerOptions, REQUEST_ID_HEADER, requestIdFrom } from './logging.js'
export {
  createMetrics,
  type Metrics,
  MetricsServerSettings,
  observer,
  type PeerOutcome,
} from './metrics.js'
export { CircuitBreaker, PeerClient, type PeerOptions, type PeerResponse } from './peer.js'
export { createPeerClient, PeerSettings, type PeerSettingsConfig, peerUrl } from './peers.js'
export { buildService, runService, type ServiceDefinition } from './service.js'
