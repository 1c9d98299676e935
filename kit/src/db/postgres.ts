import type { FastifyBaseLogger } from 'fastify'
import pg from 'pg'
import { type Database, INT8_OID, NUMERIC_OID, type Queryable } from './database.js'
import { isUnavailable, reachable } from './unavailable.js'

/** A pool of connections to a PostgreSQL server. */
export function openPostgres(service: string, url: string, poolSize: number, log: FastifyBaseLogger): Database {
  const parse = (oid: number) => (oid === INT8_OID || oid === NUMERIC_OID ? Number : pg.types.getTypeParser(oid))
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    // A burst on a busy machine opens many connections at once, each a SCRAM exchange: 2 s turned
    // 50 people signing up at once (Compose, 3 replicas) into DATABASE_UNAVAILABLE while the
    // server was up. Waiting longer for one is better than failing the request.
    connectionTimeoutMillis: 5_000,
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
