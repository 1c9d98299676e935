import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyBaseLogger } from 'fastify'
import type { Database, Queryable } from './database.js'

export interface Migration {
  version: number
  name: string
  /** The file an SQL migration was read from, named when it no longer matches what was applied. */
  file?: string
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
      file: join(dir, file),
      apply: readFileSync(join(dir, file), 'utf8'),
    }))
    .sort((a, b) => a.version - b.version)
}

/** sha256 of an SQL migration; code migrations (the seed) have none. */
function checksumOf(migration: Migration): string | null {
  return typeof migration.apply === 'string' ? createHash('sha256').update(migration.apply).digest('hex') : null
}

// Any fixed 64-bit key: replicas starting together queue on it instead of migrating twice.
const MIGRATION_LOCK = 727_274_001

/**
 * Applies missing migrations in one transaction under an advisory lock, so two replicas starting
 * together cannot both apply them, and a failure leaves nothing half-done. Each SQL migration's
 * checksum is recorded; one edited after it was applied stops start-up, since the database would
 * silently differ from what the file says.
 */
export async function migrate(db: Database, migrations: Migration[], log: FastifyBaseLogger): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      checksum text
    );
    -- Tables from before checksums were recorded; their rows are filled in below.
    ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text`)
    const rows = await tx.query<{ version: number; checksum: string | null }>(
      'SELECT version, checksum FROM schema_migrations',
    )
    const applied = new Map(rows.map((row) => [row.version, row.checksum]))
    const done: number[] = []
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      const checksum = checksumOf(migration)
      if (applied.has(migration.version)) {
        const recorded = applied.get(migration.version)
        if (recorded === null && checksum !== null) {
          await tx.query('UPDATE schema_migrations SET checksum = $2 WHERE version = $1', [migration.version, checksum])
        } else if (recorded !== checksum) {
          throw new Error(
            `migration ${migration.file ?? `${migration.version} ${migration.name}`} was changed after it was applied; ` +
              'restore it and put the change in a new migration',
          )
        }
        continue
      }
      if (typeof migration.apply === 'string') await tx.exec(migration.apply)
      else await migration.apply(tx)
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        checksum,
      ])
      log.info({ version: migration.version, migration: migration.name }, 'migration applied')
      done.push(migration.version)
    }
    return done
  })
}
