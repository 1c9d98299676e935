import { mkdirSync } from 'node:fs'
import type { PGlite } from '@electric-sql/pglite'
import { lockDataDir } from './data-dir-lock.js'
import { type Database, IN_MEMORY, INT8_OID, NUMERIC_OID, type Queryable, type QueryOptions } from './database.js'
import { initialiseDataDir } from './pglite-template.js'
import { ReadCache } from './read-cache.js'

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

/** PostgreSQL in this process (WebAssembly), on a data directory it alone uses, or in memory. */
export async function openPglite(dataDir: string): Promise<Database> {
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
    query: <Row>(sql: string, params?: unknown[], options?: QueryOptions) =>
      options?.cache
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
