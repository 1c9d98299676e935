import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Database, DatabaseConfig } from './database.js'
import { type Migration, migrate } from './migrations.js'
import { openDatabase } from './open.js'
import { whenDatabaseReachable } from './startup-retry.js'

interface DatabasePluginOptions {
  service: string
  config: DatabaseConfig & { DATABASE_STARTUP_TIMEOUT_MS: number }
  migrations: Migration[]
}

declare module 'fastify' {
  interface FastifyInstance {
    db: Database
  }
}

/** Opens the service's own database, brings its schema up to date, and reports it in `/readyz`. */
export const database = fp(
  async (fastify: FastifyInstance, options: DatabasePluginOptions) => {
    const db = await openDatabase(options.service, options.config, fastify.log)
    try {
      await whenDatabaseReachable(
        () => migrate(db, options.migrations, fastify.log),
        options.config.DATABASE_STARTUP_TIMEOUT_MS,
        fastify.log,
      )
    } catch (error) {
      await db.close()
      throw error
    }
    fastify.addHook('onClose', async () => db.close())
    fastify.decorate('db', db)
    fastify.addReadinessCheck('database', async () => {
      await db.query('SELECT 1')
    })
  },
  { name: 'cinema-database', dependencies: ['cinema-health'] },
)
