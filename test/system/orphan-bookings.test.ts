// Issue 18, item 6: a booking and the deletion of its user sent together must never both succeed,
// and never leave a booking without its user (docs/architecture.md, "Deleting a user while they
// book"). Races of PUT /bookings/{u}/… against DELETE /users/{u}, as the user themselves or an
// administrator, sent at once or one a few milliseconds ahead of the other; then every booking's
// user must exist. On PGlite, on PostgreSQL (with private reads: the peer calls carry the caller's
// token), and with three processes each of users and bookings on one PostgreSQL, each replica's
// peer another replica's, every request to a random one.
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { waitUntilReady } from '../../scripts/ready.mjs'
import { ROOT, type Service } from '../../scripts/services.mjs'
import { runRaces } from '../helpers/orphan-races.js'
import { freePort } from '../helpers/ports.js'
import { startPostgres } from '../helpers/postgres.js'
import { spawnGroup } from '../helpers/processes.js'
import { startSystem } from '../helpers/system.js'

// Two system starts and 600 races with ~120 password hashes: minutes on a machine busy with others.
t.setTimeout(900_000)

const REPLICAS = 3

/** A process of `service` (one replica more), on `port`, with `env` over its own; stopped in teardown. */
async function startReplica(t: Test, service: Service, port: number, env: Record<string, string>): Promise<void> {
  const child: ChildProcess = spawnGroup(process.execPath, [...service.nodeOptions, join(ROOT, service.entry)], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...service.env, PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let output = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk
  })
  const exited = once(child, 'exit')
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    await exited
    clearTimeout(killer)
  })
  await Promise.race([
    waitUntilReady(`http://127.0.0.1:${port}/readyz`, { timeoutMs: SYSTEM.readyTimeoutMs }),
    exited.then(([code]) => {
      throw new Error(`${service.name} replica on ${port} exited with ${code} while starting:\n${output}`)
    }),
  ])
}

const ONLY = ['users', 'showtimes', 'bookings']
// Quiet logs (each request's line costs CPU the races need); a slow PGlite start on a busy machine.
const SYSTEM = { only: ONLY, env: { LOG_LEVEL: 'warn' }, readyTimeoutMs: 240_000 }

t.test('PGlite', async (t) => {
  const system = await startSystem(SYSTEM)
  t.teardown(() => system.close())
  await runRaces(t, { users: [system.url('users')], bookings: [system.url('bookings')] }, 'PGlite')
})

t.test('PostgreSQL', async (t) => {
  const postgres = await startPostgres()
  t.teardown(() => postgres.close())

  await t.test('one process each, private reads', async (t) => {
    const system = await startSystem({
      ...SYSTEM,
      env: { ...SYSTEM.env, PRIVATE_READS: 'true' },
      serviceEnv: {
        users: { DATABASE_URL: await postgres.createDatabase('users_single') },
        bookings: { DATABASE_URL: await postgres.createDatabase('bookings_single') },
      },
    })
    t.teardown(() => system.close())
    await runRaces(t, { users: [system.url('users')], bookings: [system.url('bookings')] }, 'PostgreSQL')
  })

  await t.test(`${REPLICAS} replicas each of users and bookings`, async (t) => {
    const databases = {
      users: await postgres.createDatabase('users_replicated'),
      bookings: await postgres.createDatabase('bookings_replicated'),
    }
    const system = await startSystem({
      ...SYSTEM,
      serviceEnv: { users: { DATABASE_URL: databases.users }, bookings: { DATABASE_URL: databases.bookings } },
    })
    t.teardown(() => system.close())
    const serviceOf = (name: string) => system.services.find((service) => service.name === name) as Service
    const ports = { users: [0], bookings: [0] }
    for (let i = 1; i < REPLICAS; i++) {
      ports.users.push(await freePort())
      ports.bookings.push(await freePort())
    }
    const urlOf = (name: 'users' | 'bookings', i: number) =>
      i === 0 ? system.url(name) : `http://127.0.0.1:${ports[name][i]}`
    // Replicas 1 and 2 of each call the next replica of the other (2 calls 0, the first processes').
    await Promise.all(
      Array.from({ length: REPLICAS - 1 }, (_, k) => k + 1).flatMap((i) => [
        startReplica(t, serviceOf('users'), ports.users[i] as number, {
          DATABASE_URL: databases.users,
          BOOKINGS_URL: urlOf('bookings', (i + 1) % REPLICAS),
        }),
        startReplica(t, serviceOf('bookings'), ports.bookings[i] as number, {
          DATABASE_URL: databases.bookings,
          USERS_URL: urlOf('users', (i + 1) % REPLICAS),
        }),
      ]),
    )
    const endpoints = {
      users: Array.from({ length: REPLICAS }, (_, i) => urlOf('users', i)),
      bookings: Array.from({ length: REPLICAS }, (_, i) => urlOf('bookings', i)),
    }
    await runRaces(t, endpoints, `PostgreSQL, ${REPLICAS} replicas`)
  })
})
