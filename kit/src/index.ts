export {
  AUTH_RESPONSES,
  AuthSettings,
  auditLog,
  BEARER_SECURITY,
  bearerTokenOf,
  Guard,
  guard,
  securityOf,
} from './auth/guard.js'
export { JWKS_PATH, REMOTE_KEY_DEFAULTS, RemoteKeySet } from './auth/remote-keys.js'
export {
  BEARER_CHALLENGE,
  type Caller,
  generateSigningKey,
  importPublicJwk,
  JwkSet,
  type KeySource,
  MAX_TOKEN_TTL_SECONDS,
  PublicJwk,
  ROLES,
  type Role,
  TOKEN_ALGORITHM,
  TokenVerifier,
  unauthenticated,
  type VerificationKey,
} from './auth/tokens.js'
export { type BaseConfig, items, loadConfig, serviceConfigSchema } from './config.js'
export { EdgeConnectionSettings } from './connection-limits.js'
export * as contracts from './contracts.js'
export { readDataFile } from './data-file.js'
export { type Database, databaseSettings, IN_MEMORY, type Queryable } from './db/database.js'
export { type Migration, migrate, sqlMigrations } from './db/migrations.js'
export { openDatabase } from './db/open.js'
export { database } from './db/plugin.js'
export { seedMigration } from './db/seed.js'
export { ERROR_CODES, type ErrorBody, type ErrorCode, ErrorResponse, errorBody, HttpError } from './errors.js'
export { indexRoute } from './index-route.js'
export { REQUEST_ID_HEADER } from './logging.js'
export { MetricsServerSettings, observer, type PeerOutcome } from './metrics.js'
export { classifyNetworkError, type NetworkFailure, networkErrorCode } from './network-errors.js'
export { type PeerCaller, PeerClient } from './peer-client.js'
export { createPeerClient, type PeerClientOptions, PeerSettings, peerOptions, peerUrl } from './peer-settings.js'
export { dropHopByHop, forwardableRequestHeaders } from './proxy-headers.js'
export { emptyRecord, ownValue, recordFromEntries } from './records.js'
export { REPLICA_CLOSING_HEADER, ReplicaPool } from './replica-pool.js'
export { buildService, loadServiceConfig, runService, type ServiceDefinition } from './service.js'
export { SERVICES } from './topology.js'
export {
  allowListed,
  ClientAddressSettings,
  carriesPassword,
  perClientRateLimit,
  trustedProxies,
} from './trusted-proxies.js'
