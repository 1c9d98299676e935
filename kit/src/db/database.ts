import { Type } from 'typebox'
import { IN_MEMORY } from './in-memory.js'

export interface QueryOptions {
  /**
   * The query only reads, so its rows may be answered from memory until the next write: PGlite
   * only (see ReadCache), outside transactions. Without it every query reaches the database and
   * counts as a possible write (a SELECT may call a function that writes).
   */
  cache?: boolean
}

/** What repositories need: parameterised SQL returning rows, in one dialect for both drivers. */
export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[], options?: QueryOptions): Promise<Row[]>
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>
}

export interface Database extends Queryable {
  readonly driver: 'postgres' | 'pglite'
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>
  close(): Promise<void>
}

export { IN_MEMORY }

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

// Both drivers return bigint and numeric columns as numbers (the ids and counts here fit).
export const INT8_OID = 20
export const NUMERIC_OID = 1700
