// Nothing acknowledged is lost: a write answered 201, then the owning process killed with SIGKILL
// and started again, is still there; on PGlite and on PostgreSQL. And a database outage is a clear
// 503 that heals by itself.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { bearer, signIn } from '../helpers/auth.js'
import { eventually } from '../helpers/eventually.js'
import { startPostgres } from '../helpers/postgres.js'
import { type SystemOptions, startSystem } from '../helpers/system.js'

const DINOSAUR = '720d006c-3a57-4b6a-b18f-9b713b073f3c'
const PASSWORD = 'kelly-kapoor-2015'

async function writesSurviveSigkill(t: Test, options: SystemOptions) {
  const system = await startSystem({ ...options, only: ['users', 'showtimes', 'bookings'] })
  t.teardown(() => system.close())
  const users = system.url('users')
  const bookings = system.url('bookings')

  const created = await fetch(`${users}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'kelly_kapoor', name: 'Kelly Kapoor', password: PASSWORD }),
  })
  t.equal(created.status, 201, 'user created')
  const booked = await fetch(`${bookings}/bookings/kelly_kapoor/20151130/${DINOSAUR}`, {
    method: 'PUT',
    headers: bearer(await signIn(users, 'kelly_kapoor', PASSWORD)),
  })
  t.equal(booked.status, 201, 'booking acknowledged')

  // Killed right after answering: no graceful shutdown, no chance to flush anything more.
  t.equal(await system.stop('bookings', 'SIGKILL'), null)
  t.equal(await system.stop('users', 'SIGKILL'), null)
  await system.start('users')
  await system.start('bookings')

  t.same(await (await fetch(`${bookings}/bookings/kelly_kapoor`)).json(), { '20151130': [DINOSAUR] }, 'booking kept')
  t.match(await (await fetch(`${users}/users/kelly_kapoor`)).json(), { id: 'kelly_kapoor', name: 'Kelly Kapoor' })
  t.ok(await signIn(users, 'kelly_kapoor', PASSWORD), 'password kept')
  const all = (await (await fetch(`${bookings}/bookings`)).json()) as Record<string, unknown>
  t.same(
    Object.keys(all),
    ['chris_rivers', 'garret_heaton', 'dwight_schrute', 'kelly_kapoor'],
    'seeded once, not again',
  )
}

t.test('PGlite: an acknowledged write survives SIGKILL', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cinema-durable-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  await writesSurviveSigkill(t, { dataDir })
})

t.test('PostgreSQL: an acknowledged write survives SIGKILL; an outage is a 503 that heals', async (t) => {
  const postgres = await startPostgres()
  t.teardown(() => postgres.close())
  const serviceEnv = {
    users: { DATABASE_URL: await postgres.createDatabase('users') },
    bookings: { DATABASE_URL: await postgres.createDatabase('bookings') },
  }
  await t.test('durability', (t) => writesSurviveSigkill(t, { serviceEnv }))

  await t.test('database outage', async (t) => {
    const system = await startSystem({ serviceEnv, only: ['bookings'] })
    t.teardown(() => system.close())
    const bookings = system.url('bookings')
    t.equal((await fetch(`${bookings}/bookings`)).status, 200)

    postgres.stop('immediate')
    const down = await fetch(`${bookings}/bookings/dwight_schrute`)
    t.equal(down.status, 503)
    t.same(await down.json(), {
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'the bookings database is unavailable; try again in a moment',
      code: 'DATABASE_UNAVAILABLE',
      service: 'bookings',
    })
    const readiness = await fetch(`${bookings}/readyz`)
    t.equal(readiness.status, 503, 'not ready while its database is away')
    t.match(await readiness.json(), { status: 'not ready', checks: { database: /unavailable/ } })
    t.equal((await fetch(`${bookings}/livez`)).status, 200, 'but alive: no restart wanted')

    postgres.start()
    // The server's restart can outlast bookings' keep-alive timeout on a busy machine: the first
    // call may go out on a connection bookings just closed ("other side closed"), and is sent again.
    const back = await eventually(
      () => fetch(`${bookings}/bookings/dwight_schrute`).then(({ status }) => status, String),
      (status) => status !== 'TypeError: fetch failed',
    )
    t.equal(back, 200, 'back without a restart')
    t.equal((await fetch(`${bookings}/readyz`)).status, 200)
  })
})
