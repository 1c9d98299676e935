import { spawnSync } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { PGlite } from '@electric-sql/pglite'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import pg from 'pg'
import { Type } from 'typebox'
import { HttpError } from './errors.js'

/** What repositories need: parameterised SQL returning rows, in one dialect for both drivers. */
export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>
}

export interface Database extends Queryable {
  readonly driver: 'postgres' | 'pglite'
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>
  close(): Promise<void>
}

export const IN_MEMORY = 'memory://'

/** Environment settings of a service that owns a database; `defaultDataDir` is `.data/<service>` of the checkout. */
export function databaseSettings(service: string, defaultDataDir: string) {
  return {
    DATABASE_URL: Type.Optional(
      Type.String({ description: 'postgres://… of the PostgreSQL database; unset: embedded PGlite under DATA_DIR' }),
    ),
    DATA_DIR: Type.String({
      default: defaultDataDir,
      description: `PGlite data directory of the ${service} database when DATABASE_URL is unset ("${IN_MEMORY}": in memory)`,
    }),
    DATABASE_POOL_SIZE: Type.Integer({ minimum: 1, default: 10, description: 'PostgreSQL connections' }),
    DATABASE_STARTUP_TIMEOUT_MS: Type.Integer({
      minimum: 0,
      default: 30_000,
      description: 'how long start-up waits for the database before giving up',
    }),
  }
}

export interface DatabaseConfig {
  DATABASE_URL?: string
  DATA_DIR: string
  DATABASE_POOL_SIZE: number
}

const INT8_OID = 20
const NUMERIC_OID = 1700

// SQLSTATE classes meaning "the server is not there or not taking work", as opposed to a bad query.
const UNAVAILABLE_SQLSTATE = /^(08|53|57P)/
const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
])
// node-postgres reports a lost or impossible connection by message only.
const PG_CONNECTION_MESSAGES =
  /connection terminated|timeout exceeded when trying to connect|connection error|not queryable/i

function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof HttpError) return false
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') return UNAVAILABLE_SQLSTATE.test(code) || NETWORK_ERRORS.has(code)
  return PG_CONNECTION_MESSAGES.test(error.message)
}

/** Runs a database call, turning "cannot reach the database" into a 503 the client can read. */
async function reachable<T>(service: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    if (!isUnavailable(error)) throw error
    throw new HttpError(503, `the ${service} database is unavailable; try again in a moment`, {
      cause: error,
      expose: true,
    })
  }
}

function openPostgres(service: string, url: string, poolSize: number, log: FastifyBaseLogger): Database {
  const parse = (oid: number) => (oid === INT8_OID || oid === NUMERIC_OID ? Number : pg.types.getTypeParser(oid))
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 2_000,
    idleTimeoutMillis: 10_000,
    types: { getTypeParser: parse as typeof pg.types.getTypeParser },
  })
  // An idle connection dropped by the server must not crash the process; the pool reconnects.
  pool.on('error', (error) => log.warn({ err: error }, 'database connection lost'))

  const wrap = (client: pg.Pool | pg.PoolClient): Queryable => ({
    query: async <Row>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as Row[],
    exec: async (sql: string) => {
      await client.query(sql)
    },
  })
  const direct = wrap(pool)
  return {
    driver: 'postgres',
    query: (sql, params) => reachable(service, () => direct.query(sql, params)),
    exec: (sql) => reachable(service, () => direct.exec(sql)),
    transaction: (work) =>
      reachable(service, async () => {
        const client = await pool.connect()
        try {
          await client.query('BEGIN')
          const result = await work(wrap(client))
          await client.query('COMMIT')
          client.release()
          return result
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined)
          // A connection that failed mid-transaction is discarded rather than reused.
          client.release(error instanceof Error && isUnavailable(error) ? error : undefined)
          throw error
        }
      }),
    close: () => pool.end(),
  }
}

/**
 * One process per data directory: PGlite has no lock of its own, and two processes writing the
 * same files would corrupt them. A lock left by a killed process is taken over.
 */
function lockDataDir(dir: string): () => void {
  const lockFile = join(dir, 'cinema.lock')
  for (;;) {
    try {
      const fd = openSync(lockFile, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return () => rmSync(lockFile, { force: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = Number(readFileSync(lockFile, 'utf8'))
      if (holder && isAlive(holder)) {
        throw new Error(`database directory ${dir} is in use by process ${holder}`)
      }
      rmSync(lockFile, { force: true })
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * PGlite is loaded only when used: it is an optional dependency, left out of the container
 * images, which always have a PostgreSQL server.
 */
async function loadPglite(): Promise<typeof PGlite> {
  try {
    return (await import('@electric-sql/pglite')).PGlite
  } catch {
    throw new Error('DATABASE_URL is not set and the embedded database (@electric-sql/pglite) is not installed')
  }
}

/**
 * Creates a new PGlite data directory in a short-lived child process. initdb inside the service
 * process would leave it holding ~700 MB it never gives back; the open that follows needs ~150 MB.
 */
function initialiseDataDir(dataDir: string): void {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return
  const script =
    'const { PGlite } = await import(process.argv[1]); await (await PGlite.create(process.argv[2])).close()'
  const result = spawnSync(
    process.execPath,
    ['--input-type=module', '--eval', script, import.meta.resolve('@electric-sql/pglite'), dataDir],
    { encoding: 'utf8' },
  )
  if (result.status !== 0) throw new Error(`could not create the database in ${dataDir}: ${result.stderr}`)
}

/**
 * Results of reads, kept until the next write. Only for PGlite: its data directory belongs to this
 * process alone (see lockDataDir), so every write passes through here and nothing can go stale.
 * A PGlite call costs 100–200 µs of CPU whatever the query (90 µs for SELECT 1), which made the
 * hot reads (a user, a user's bookings) the bulk of a request. A read that overlaps a write is
 * returned but not kept.
 */
export class ReadCache {
  #entries = new Map<string, unknown[]>()
  #generation = 0

  constructor(private readonly capacity = 10_000) {}

  async read<Row>(sql: string, params: unknown[] | undefined, load: () => Promise<Row[]>): Promise<Row[]> {
    const key = params ? `${sql}\u0000${JSON.stringify(params)}` : sql
    const cached = this.#entries.get(key)
    if (cached) return cached as Row[]
    const generation = this.#generation
    const rows = await load()
    if (generation === this.#generation) {
      if (this.#entries.size >= this.capacity) this.#entries.delete(this.#entries.keys().next().value as string)
      this.#entries.set(key, Object.freeze(rows.map((row) => Object.freeze(row))) as unknown[])
    }
    return rows
  }

  /** Runs a write; whatever it changed, no read from before it is served again. */
  async write<T>(work: () => Promise<T>): Promise<T> {
    this.#invalidate()
    try {
      return await work()
    } finally {
      this.#invalidate()
    }
  }

  #invalidate(): void {
    this.#generation += 1
    this.#entries.clear()
  }
}

const READ = /^\s*select\b/i

async function openPglite(dataDir: string): Promise<Database> {
  const PGlite = await loadPglite()
  const inMemory = dataDir === IN_MEMORY
  let unlock = () => {}
  if (!inMemory) {
    mkdirSync(dataDir, { recursive: true })
    unlock = lockDataDir(dataDir)
  }
  let db: PGlite
  try {
    if (!inMemory) initialiseDataDir(dataDir)
    db = await PGlite.create(inMemory ? undefined : dataDir, {
      parsers: { [INT8_OID]: Number, [NUMERIC_OID]: Number },
      // Small buffers: an embedded development database should not cost hundreds of MB per process.
      startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB', '-c', 'wal_buffers=1MB'],
    })
  } catch (error) {
    unlock()
    throw error
  }
  const wrap = (client: Pick<PGlite, 'query' | 'exec'>): Queryable => ({
    query: async <Row>(sql: string, params?: unknown[]) => (await client.query<Row>(sql, params)).rows,
    exec: async (sql: string) => {
      await client.exec(sql)
    },
  })
  const direct = wrap(db)
  const cache = new ReadCache()
  return {
    driver: 'pglite',
    query: <Row>(sql: string, params?: unknown[]) =>
      READ.test(sql)
        ? cache.read(sql, params, () => direct.query<Row>(sql, params))
        : cache.write(() => direct.query<Row>(sql, params)),
    exec: (sql) => cache.write(() => direct.exec(sql)),
    transaction: (work) => cache.write(() => db.transaction((tx) => work(wrap(tx)))),
    close: async () => {
      await db.close()
      unlock()
    },
  }
}

/** PostgreSQL when a URL is given, otherwise PGlite in this process. */
export async function openDatabase(service: string, config: DatabaseConfig, log: FastifyBaseLogger): Promise<Database> {
  if (config.DATABASE_URL) return openPostgres(service, config.DATABASE_URL, config.DATABASE_POOL_SIZE, log)
  return openPglite(config.DATA_DIR)
}

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

/** Retries `attempt` while the database is unreachable, up to `timeoutMs`; other errors fail at once. */
export async function whenDatabaseReachable<T>(
  attempt: () => Promise<T>,
  timeoutMs: number,
  log: FastifyBaseLogger,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (let delay = 250; ; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await attempt()
    } catch (error) {
      const unreachable = error instanceof HttpError && error.statusCode === 503
      if (!unreachable || Date.now() + delay > deadline) throw error
      log.warn({ retryInMs: delay }, 'database not reachable yet')
      await sleep(delay)
    }
  }
}

export interface DatabasePluginOptions {
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

/**
 * The one-time seed of a fresh database: runs after every schema migration, is recorded like one
 * (so it never runs again, even once the table is emptied), and adds nothing to a table that
 * already has rows.
 */
export function seedMigration(name: string, table: string, columns: string[], rows: () => unknown[][]): Migration {
  return {
    version: 1_000_000,
    name,
    apply: async (tx) => {
      const [existing] = await tx.query(`SELECT 1 FROM ${table} LIMIT 1`)
      if (existing) return
      const placeholders = columns.map((_, index) => `$${index + 1}`).join(', ')
      for (const row of rows()) {
        await tx.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${placeholders})`, row)
      }
    },
  }
}
