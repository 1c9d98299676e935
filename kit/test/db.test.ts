import t from 'tap'
import { eachDriver, quietLog } from '../../test/helpers/databases.js'
import { type Migration, migrate } from '../src/db/migrations.js'
import { HttpError } from '../src/errors.js'

const schema: Migration[] = [
  { version: 1, name: 'create_things', apply: 'CREATE TABLE things (id bigint PRIMARY KEY, name text NOT NULL);' },
  { version: 2, name: 'add_size', apply: 'ALTER TABLE things ADD COLUMN size bigint NOT NULL DEFAULT 0;' },
]

t.test('database drivers', (t) =>
  eachDriver(t, async (t, { driver, open, server }) => {
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

    t.test('a read reaches the database unless it asks to be cached; cached reads see every write', async (t) => {
      const db = await open()
      await migrate(db, schema, quietLog)
      await db.exec(`CREATE SEQUENCE counter;
        CREATE FUNCTION add_thing(id bigint) RETURNS bigint LANGUAGE sql
          AS 'INSERT INTO things (id, name) VALUES (id, ''added'') RETURNING id';`)
      const next = async (options?: { cache: boolean }) =>
        (await db.query<{ n: number }>("SELECT nextval('counter') AS n", [], options))[0]?.n
      t.equal(await next(), 1)
      t.equal(await next(), 2, 'a SELECT with a side effect runs again')
      const count = async () =>
        (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM things', [], { cache: true }))[0]?.n
      t.equal(await count(), 0)
      await db.query('SELECT add_thing(1)')
      t.equal(await count(), 1, 'a SELECT that writes empties the cache')
      const cached = await next({ cache: true })
      if (driver === 'pglite') t.equal(await next({ cache: true }), cached, 'PGlite answers a cached read from memory')
      else t.equal(await next({ cache: true }), 4, 'PostgreSQL (shared with other processes) never caches')
    })

    if (driver === 'postgres' && server) {
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
