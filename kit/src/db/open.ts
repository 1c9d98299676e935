import type { FastifyBaseLogger } from 'fastify'
import type { Database, DatabaseConfig } from './database.js'

/**
 * PostgreSQL when a URL is given, otherwise PGlite in this process. Each driver is loaded only
 * when used: pg cost every process ~50 ms of its start, services without a database included.
 */
export async function openDatabase(service: string, config: DatabaseConfig, log: FastifyBaseLogger): Promise<Database> {
  if (config.DATABASE_URL) {
    const { openPostgres } = await import('./postgres.js')
    return openPostgres(service, config.DATABASE_URL, config.DATABASE_POOL_SIZE, log)
  }
  const { openPglite } = await import('./pglite.js')
  return openPglite(config.DATA_DIR)
}
