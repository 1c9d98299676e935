export { type BaseConfig, ConfigError, type LogLevel, loadConfig, serviceConfigSchema } from './config.js'
export * as contracts from './contracts.js'
export { readDataFile } from './data-file.js'
export { type Database, type DatabaseConfig, databaseSettings, IN_MEMORY, type Queryable } from './db/database.js'
export { type Migration, migrate, sqlMigrations } from './db/migrations.js'
export { openDatabase } from './db/open.js'
export { database } from './db/plugin.js'
export { seedMigration } from './db/seed.js'
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
export { CircuitBreaker, PeerClient, type PeerOptions, type PeerResponse } from './peer-client.js'
export { createPeerClient, PeerSettings, type PeerSettingsConfig, peerUrl } from './peer-settings.js'
export { dropHopByHop, forwardableRequestHeaders } from './proxy-headers.js'
export { emptyRecord, ownValue, recordFromEntries } from './records.js'
export { buildService, runService, type ServiceDefinition } from './service.js'
export { SERVICES } from './topology.js'
