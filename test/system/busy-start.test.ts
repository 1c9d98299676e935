// A first start that takes its time: on a machine kept busy by CPU burners, and with a database
// that comes up only after Fastify's old 10 s plugin timeout. Both must end with ready services,
// since the plugin timeout now exceeds DATABASE_STARTUP_TIMEOUT_MS (30 s).
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { startPostgres } from '../helpers/postgres.js'
import { spawnGroup, stopGroup } from '../helpers/processes.js'
import { startSystem } from '../helpers/system.js'

t.setTimeout(240_000)

/** Busy-loop processes, one per core (2 to 4), each ending by itself after `seconds`. */
function burnCpu(seconds: number): ChildProcess[] {
  const count = Math.min(4, Math.max(2, cpus().length))
  const script = `const end = Date.now() + ${seconds * 1000}; while (Date.now() < end) {}`
  return Array.from({ length: count }, () => spawnGroup(process.execPath, ['-e', script], { stdio: 'ignore' }))
}

t.test('a first start with fresh PGlite directories, beside CPU burners, becomes ready', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cinema-busy-'))
  const burners = burnCpu(90)
  t.teardown(async () => {
    await Promise.all(burners.map((burner) => stopGroup(burner, 'SIGKILL')))
    rmSync(dataDir, { recursive: true, force: true })
  })
  const started = performance.now()
  const system = await startSystem({ dataDir, only: ['users', 'bookings'] })
  t.teardown(() => system.close())
  t.comment(`users and bookings ready in ${((performance.now() - started) / 1000).toFixed(1)} s beside the burners`)
  const users = await fetch(`${system.url('users')}/users/dwight_schrute`)
  t.equal(users.status, 200, 'users answers from its new database')
  const bookings = await fetch(`${system.url('bookings')}/bookings`)
  t.equal(bookings.status, 200, 'bookings answers from its new database')
})

t.test('a PostgreSQL that comes up 22 s after the service starts: the service waits for it and is ready', async (t) => {
  const postgres = await startPostgres()
  const url = await postgres.createDatabase('users_late')
  postgres.stop()
  // Well past the old 10 s plugin timeout, within DATABASE_STARTUP_TIMEOUT_MS (30 s).
  const late = sleep(22_000).then(() => postgres.start())
  t.teardown(async () => {
    await late
    postgres.close()
  })
  const started = performance.now()
  const system = await startSystem({
    only: ['users'],
    serviceEnv: { users: { DATABASE_URL: url } },
  })
  t.teardown(() => system.close())
  await late
  const readyAfter = (performance.now() - started) / 1000
  t.comment(`users ready after ${readyAfter.toFixed(1)} s, its database having come up after 22 s`)
  t.ok(readyAfter >= 22, 'ready only once the database was up')
  t.equal((await fetch(`${system.url('users')}/users/dwight_schrute`)).status, 200)
})
