import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { eachDriver, quietLog } from '../../test/helpers/databases.js'
import { type Database, type Migration, migrate, openDatabase, ReadCache, seedMigration } from '../src/db.js'
import { HttpError } from '../src/errors.js'

const schema: Migration[] = [
  { version: 1, name: 'create_things', apply: 'CREATE TABLE things (id bigint PRIMARY KEY, name text NOT NULL);' },
  { version: 2, name: 'add_size', apply: 'ALTER TABLE things ADD COLUMN size bigint NOT NULL DEFAULT 0;' },
]
const seed = seedMigration('seed_things', 'things', ['id', 'name', 'size'], () => [
  [1, 'one', 10_000_000_000],
  [2, 'two', 2],
])

t.test('database layer', (t) =>
  eachDriver(t, async (t, { driver, open, server }) => {
    t.test('migrations apply in version order, once; the seed runs once and never again', async (t) => {
      const db = await open()
      t.same(await migrate(db, [seed, ...schema].reverse(), quietLog), [1, 2, 1_000_000])
      t.same(await migrate(db, [...schema, seed], quietLog), [], 'nothing left to apply')
      const rows = await db.query<{ id: number; name: string; size: number }>('SELECT * FROM things ORDER BY id')
      t.same(rows, [
        { id: 1, name: 'one', size: 10_000_000_000 },
        { id: 2, name: 'two', size: 2 },
      ])
      t.equal(typeof rows[0]?.size, 'number', 'bigint comes back as a number on both drivers')

      await db.exec('DELETE FROM things')
      await migrate(db, [...schema, seed], quietLog)
      t.same(await db.query('SELECT * FROM things'), [], 'an emptied table is not seeded again')
    })

    t.test('a failing migration leaves nothing behind', async (t) => {
      const db = await open()
      const broken: Migration = { version: 3, name: 'broken', apply: 'ALTER TABLE nowhere ADD COLUMN x int;' }
      await t.rejects(migrate(db, [...schema, broken], quietLog))
      t.same(await db.query("SELECT to_regclass('things') AS t"), [{ t: null }], 'earlier steps rolled back too')
    })

    t.test('transactions commit together or not at all', async (t) => {
      const db = await open()
      await migrate(db, schema, quietLog)
      await t.rejects(
        db.transaction(async (tx) => {
          await tx.query("INSERT INTO things (id, name) VALUES (1, 'kept?')")
          await tx.query("INSERT INTO things (id, name) VALUES (1, 'duplicate')")
        }),
        { code: '23505' },
      )
      t.same(await db.query('SELECT * FROM things'), [])
      await db.transaction(async (tx) => {
        await tx.query("INSERT INTO things (id, name) VALUES (1, 'one')")
      })
      t.same(await db.query('SELECT id FROM things'), [{ id: 1 }])
    })

    if (driver === 'postgres' && server) {
      t.test('two replicas migrating at once: one applies, the other waits and finds nothing to do', async (t) => {
        const url = await server.createDatabase(`race_${process.pid}`)
        const replicas = await Promise.all(
          [1, 2, 3].map(() =>
            openDatabase('test', { DATABASE_URL: url, DATA_DIR: '', DATABASE_POOL_SIZE: 2 }, quietLog),
          ),
        )
        t.teardown(() => Promise.all(replicas.map((db) => db.close())))
        const [first] = replicas as [Database, ...Database[]]
        const applied = await Promise.all(replicas.map((db) => migrate(db, [...schema, seed], quietLog)))
        t.same(applied.map((versions) => versions.length).sort(), [0, 0, 3])
        const [counts] = await first.query<{ n: number }>('SELECT count(*)::int AS n FROM things')
        t.equal(counts?.n, 2, 'seeded once')
      })

      t.test('an unreachable database is a 503 saying so, and the pool recovers by itself', async (t) => {
        const db = await open()
        await migrate(db, schema, quietLog)
        server.stop('immediate')
        const error = await db.query('SELECT 1').catch((caught: unknown) => caught)
        t.type(error, HttpError)
        t.equal((error as HttpError).statusCode, 503)
        t.equal((error as HttpError).message, 'the test database is unavailable; try again in a moment')
        server.start()
        t.same(await db.query('SELECT 1 AS one'), [{ one: 1 }], 'no restart needed')
      })
    }
  }),
)

t.test('a PGlite data directory is used by one process at a time, and survives reopening', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cinema-pglite-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const config = { DATA_DIR: dir, DATABASE_POOL_SIZE: 1 }
  const db = await openDatabase('test', config, quietLog)
  await migrate(db, schema, quietLog)
  await db.query("INSERT INTO things (id, name) VALUES (7, 'kept')")
  await t.rejects(openDatabase('test', config, quietLog), { message: /is in use by process/ })
  await db.close()
  const reopened = await openDatabase('test', config, quietLog)
  t.same(await reopened.query('SELECT name FROM things'), [{ name: 'kept' }])
  await reopened.close()
})

t.test('the PGlite read cache never serves a read from before a write', async (t) => {
  const cache = new ReadCache(2)
  let value = 'old'
  let loads = 0
  const load = async () => {
    loads += 1
    return [{ value }]
  }
  t.same(await cache.read('SELECT value', undefined, load), [{ value: 'old' }])
  t.same(await cache.read('SELECT value', undefined, load), [{ value: 'old' }])
  t.equal(loads, 1, 'a repeated read is served from memory')

  await cache.write(async () => {
    value = 'new'
  })
  t.same(await cache.read('SELECT value', undefined, load), [{ value: 'new' }], 'a write empties it')

  // A read that started before a write finished must not be kept: it may hold the old value.
  let release: () => void = () => {}
  const slowLoad = () =>
    new Promise<{ value: string }[]>((resolve) => {
      const seen = value
      release = () => resolve([{ value: seen }])
    })
  await cache.write(async () => {
    value = 'newer'
  })
  const overlapping = cache.read('SELECT value', ['x'], slowLoad)
  await cache.write(async () => {
    value = 'newest'
  })
  release()
  t.same(await overlapping, [{ value: 'newer' }])
  t.same(await cache.read('SELECT value', ['x'], load), [{ value: 'newest' }], 'the overlapping read was not kept')

  await cache.read('a', undefined, load)
  await cache.read('b', undefined, load)
  await cache.read('c', undefined, load)
  const before = loads
  await cache.read('a', undefined, load)
  t.equal(loads, before + 1, 'the oldest entry goes when it is full')
})

t.test('PGlite: reads see every write through the cache', async (t) => {
  const db = await openDatabase('test', { DATA_DIR: 'memory://', DATABASE_POOL_SIZE: 1 }, quietLog)
  t.teardown(() => db.close())
  await migrate(db, schema, quietLog)
  t.same(await db.query('SELECT id FROM things ORDER BY id'), [])
  await db.query("INSERT INTO things (id, name) VALUES (1, 'one')")
  t.same(await db.query('SELECT id FROM things ORDER BY id'), [{ id: 1 }])
  await db.transaction(async (tx) => {
    await tx.query("INSERT INTO things (id, name) VALUES (2, 'two')")
  })
  t.same(await db.query('SELECT id FROM things ORDER BY id'), [{ id: 1 }, { id: 2 }])
  await db.exec('DELETE FROM things')
  t.same(await db.query('SELECT id FROM things ORDER BY id'), [])
})
