// Runs a suite once on each driver: PGlite in memory and a real PostgreSQL server.
import { type Database, IN_MEMORY, openDatabase } from '@cinema/kit'
import { pino } from 'pino'
import type { Test } from 'tap'
import { startPostgres, type TestPostgres } from './postgres.js'

export const quietLog = pino({ level: 'silent' })

export interface DriverUnderTest {
  driver: 'pglite' | 'postgres'
  /** Opens a new, empty database (on PostgreSQL: a new database on the shared test server). */
  open(): Promise<Database>
  /** The test server, for stopping and starting it (PostgreSQL only). */
  server?: TestPostgres
}

let databases = 0

export async function eachDriver(t: Test, suite: (t: Test, driver: DriverUnderTest) => Promise<void>): Promise<void> {
  const opened: Database[] = []
  const track = async (db: Promise<Database>) => {
    opened.push(await db)
    return opened[opened.length - 1] as Database
  }
  t.teardown(async () => {
    await Promise.all(opened.map((db) => db.close().catch(() => undefined)))
  })

  await t.test('on PGlite', async (t) =>
    suite(t, {
      driver: 'pglite',
      open: () => track(openDatabase('test', { DATA_DIR: IN_MEMORY, DATABASE_POOL_SIZE: 1 }, quietLog)),
    }),
  )

  const server = await startPostgres()
  t.teardown(() => server.close())
  await t.test('on PostgreSQL', async (t) =>
    suite(t, {
      driver: 'postgres',
      server,
      open: async () => {
        databases += 1
        const url = await server.createDatabase(`test_${process.pid}_${databases}`)
        return track(openDatabase('test', { DATABASE_URL: url, DATA_DIR: '', DATABASE_POOL_SIZE: 10 }, quietLog))
      },
    }),
  )
}
