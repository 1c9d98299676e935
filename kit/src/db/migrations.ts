import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyBaseLogger } from 'fastify'
import type { Database, Queryable } from './database.js'

export interface Migration {
  version: number
  name: string
  /** SQL script, or code for steps SQL alone cannot do (seeding from data files). */
  apply: string | ((tx: Queryable) => Promise<void>)
}

/** Reads `NNN_name.sql` files from a directory, in version order. */
export function sqlMigrations(dir: string): Migration[] {
  return readdirSync(dir)
    .map((file) => /^(\d+)_(.+)\.sql$/.exec(file))
    .filter((match): match is RegExpExecArray => match !== null)
    .map(([file, version, name]) => ({
      version: Number(version),
      name: name ?? file,
      apply: readFileSync(join(dir, file), 'utf8'),
    }))
    .sort((a, b) => a.version - b.version)
}

// Any fixed 64-bit key: replicas starting together queue on it instead of migrating twice.
const MIGRATION_LOCK = 727_274_001

/**
 * Applies missing migrations in one transaction under an advisory lock, so two replicas starting
 * together cannot both apply them, and a failure leaves nothing half-done.
 */
export async function migrate(db: Database, migrations: Migration[], log: FastifyBaseLogger): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`)
    const rows = await tx.query<{ version: number }>('SELECT version FROM schema_migrations')
    const applied = new Set(rows.map((row) => row.version))
    const done: number[] = []
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue
      if (typeof migration.apply === 'string') await tx.exec(migration.apply)
      else await migration.apply(tx)
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ])
      log.info({ version: migration.version, migration: migration.name }, 'migration applied')
      done.push(migration.version)
    }
    return done
  })
}
