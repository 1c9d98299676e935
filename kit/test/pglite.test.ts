import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import t from 'tap'
import { quietLog } from '../../test/helpers/databases.js'
import { IN_MEMORY } from '../src/db/database.js'
import { type Migration, migrate } from '../src/db/migrations.js'
import { openDatabase } from '../src/db/open.js'
import { initialiseDataDir } from '../src/db/pglite-template.js'
import { database } from '../src/db/plugin.js'
import { ReadCache } from '../src/db/read-cache.js'
import { health } from '../src/health.js'

const schema: Migration[] = [
  { version: 1, name: 'create_things', apply: 'CREATE TABLE things (id bigint PRIMARY KEY, name text NOT NULL);' },
]

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

t.test('a new PGlite database is a copy of a template made once per PGlite version, and works', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cinema-pglite-template-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const templates = join(root, 'templates')
  initialiseDataDir(join(root, 'first'), templates)
  const made = readdirSync(templates)
  t.match(made, [/^pglite-\d+\.\d+\.\d+/], 'one template, named by the PGlite version')
  // A mark only the template has: a database that has it was copied from it, not made by initdb.
  writeFileSync(join(templates, String(made[0]), 'cinema-template-mark'), '')
  const second = join(root, 'second')
  initialiseDataDir(second, templates)
  t.ok(existsSync(join(second, 'cinema-template-mark')), 'the second database is a copy of the template')
  t.same(readdirSync(templates), made, 'and no other template was made')

  const db = await openDatabase('test', { DATA_DIR: second, DATABASE_POOL_SIZE: 1 }, quietLog)
  t.teardown(() => db.close())
  await migrate(db, schema, quietLog)
  await db.query("INSERT INTO things (id, name) VALUES (1, 'copied')")
  t.same(await db.query('SELECT name FROM things'), [{ name: 'copied' }], 'migrated and written to')
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

t.test('readiness asks the database every time, even after it succeeded', async (t) => {
  const app = Fastify()
  await app.register(health)
  await app.register(database, {
    service: 'test',
    config: { DATA_DIR: IN_MEMORY, DATABASE_POOL_SIZE: 1, DATABASE_STARTUP_TIMEOUT_MS: 0 },
    migrations: schema,
  })
  // The plugin closes the database again with the app; that second close fails.
  t.teardown(() => app.close().catch(() => undefined))
  t.equal((await app.inject('/readyz')).statusCode, 200)
  t.equal((await app.inject('/readyz')).statusCode, 200)
  await app.db.close()
  const broken = await app.inject('/readyz')
  t.equal(broken.statusCode, 503)
  t.same(broken.json(), { status: 'not ready', checks: { database: 'PGlite is closed' } })
})

t.test('PGlite: reads see every write through the cache', async (t) => {
  const db = await openDatabase('test', { DATA_DIR: IN_MEMORY, DATABASE_POOL_SIZE: 1 }, quietLog)
  t.teardown(() => db.close())
  await migrate(db, schema, quietLog)
  const cached = { cache: true }
  t.same(await db.query('SELECT id FROM things ORDER BY id', [], cached), [])
  await db.query("INSERT INTO things (id, name) VALUES (1, 'one')")
  t.same(await db.query('SELECT id FROM things ORDER BY id', [], cached), [{ id: 1 }])
  await db.transaction(async (tx) => {
    await tx.query("INSERT INTO things (id, name) VALUES (2, 'two')")
  })
  t.same(await db.query('SELECT id FROM things ORDER BY id', [], cached), [{ id: 1 }, { id: 2 }])
  await db.exec('DELETE FROM things')
  t.same(await db.query('SELECT id FROM things ORDER BY id', [], cached), [])
})
