export { type BaseConfig, ConfigError, type LogLevel, loadConfig, serviceConfigSchema } from './config.js'
export * as contracts from './contracts.js'
export { readDataFile } from './data-file.js'
export { type Database, type DatabaseConfig, databaseSettings, IN_MEMORY, type Queryable } from './db/database.js'
export { type Migration, migrate, sqlMigrations } from './db/migrations.js'
export { openDatabase } from './db/open.js'
export { database } from './db/plugin.js'
export { seedMigration } from './db/seed.js'
export { ERROR_CODES, type ErrorBody, type ErrorCode, ErrorResponse, errorBody, HttpError } from './errors.js'
export { indexRoute } from './index-route.js'
export { loggerOptions, REQUEST_ID_HEADER, requestIdFrom } from './logging.js'
export {
  createMetrics,
  type Metrics,
  MetricsServerSettings,
  observer,
  type PeerOutcome,
} from './metrics.js'
export { classifyNetworkError, type NetworkFailure, networkErrorCode } from './network-errors.js'
export { CircuitBreaker, PeerClient, type PeerOptions, type PeerResponse } from './peer-client.js'
export {
  createPeerClient,
  type PeerClientOptions,
  PeerSettings,
  type PeerSettingsConfig,
  peerOptions,
  peerUrl,
} from './peer-settings.js'
export { dropHopByHop, forwardableRequestHeaders } from './proxy-headers.js'
export { emptyRecord, ownValue, recordFromEntries } from './records.js'
export { buildService, runService, type ServiceDefinition } from './service.js'
export { SERVICES } from './topology.js'
