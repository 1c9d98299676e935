import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { eachDriver, quietLog } from '../../test/helpers/databases.js'
import type { Database } from '../src/db/database.js'
import { type Migration, migrate, sqlMigrations } from '../src/db/migrations.js'
import { openDatabase } from '../src/db/open.js'
import { seedMigration } from '../src/db/seed.js'

const schema: Migration[] = [
  { version: 1, name: 'create_things', apply: 'CREATE TABLE things (id bigint PRIMARY KEY, name text NOT NULL);' },
  { version: 2, name: 'add_size', apply: 'ALTER TABLE things ADD COLUMN size bigint NOT NULL DEFAULT 0;' },
]
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')
const seed = seedMigration('seed_things', 'things', ['id', 'name', 'size'], () => [
  [1, 'one', 10_000_000_000],
  [2, 'two', 2],
])

t.test('migrations', (t) =>
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

    t.test(
      'each SQL migration is recorded with its sha256; a file edited after it was applied stops start-up',
      async (t) => {
        const dir = mkdtempSync(join(tmpdir(), 'cinema-migrations-'))
        t.teardown(() => rmSync(dir, { recursive: true, force: true }))
        const file = join(dir, '001_create_things.sql')
        const original = schema[0]?.apply as string
        writeFileSync(file, original)
        const db = await open()
        t.same(await migrate(db, sqlMigrations(dir), quietLog), [1])
        t.same(await db.query('SELECT version, checksum FROM schema_migrations'), [
          { version: 1, checksum: sha256(original) },
        ])

        writeFileSync(file, `${original}\nALTER TABLE things ADD COLUMN colour text;\n`)
        await t.rejects(migrate(db, sqlMigrations(dir), quietLog), {
          message: `migration ${file} was changed after it was applied; restore it and put the change in a new migration`,
        })
        t.same(await db.query("SELECT to_regclass('things') IS NOT NULL AS kept"), [{ kept: true }])
        writeFileSync(file, original)
        t.same(await migrate(db, sqlMigrations(dir), quietLog), [], 'restored: starts again')
      },
    )

    t.test('a database from before checksums gains them on its first start, from the files as they are', async (t) => {
      const db = await open()
      await db.exec(`CREATE TABLE schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      );
      ${schema[0]?.apply}
      INSERT INTO schema_migrations (version, name) VALUES (1, 'create_things'), (1000000, 'seed_things');`)
      t.same(await migrate(db, [...schema, seed], quietLog), [2], 'only the new migration applied')
      t.same(await db.query('SELECT version, checksum FROM schema_migrations ORDER BY version'), [
        { version: 1, checksum: sha256(schema[0]?.apply as string) },
        { version: 2, checksum: sha256(schema[1]?.apply as string) },
        { version: 1_000_000, checksum: null },
      ])
      const edited: Migration = { version: 1, name: 'create_things', apply: `${schema[0]?.apply} -- edited` }
      await t.rejects(migrate(db, [edited], quietLog), { message: /^migration 1 create_things was changed/ })
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
    }
  }),
)
