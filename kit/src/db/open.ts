import type { FastifyBaseLogger } from 'fastify'
import type { Database, DatabaseConfig } from './database.js'
import { openPglite } from './pglite.js'
import { openPostgres } from './postgres.js'

/** PostgreSQL when a URL is given, otherwise PGlite in this process. */
export async function openDatabase(service: string, config: DatabaseConfig, log: FastifyBaseLogger): Promise<Database> {
  if (config.DATABASE_URL) return openPostgres(service, config.DATABASE_URL, config.DATABASE_POOL_SIZE, log)
  return openPglite(config.DATA_DIR)
}
