// A service stopped while the rest keep running: callers answer at once with an error naming it,
// and recover by themselves when it comes back.

import { once } from 'node:events'
import { createServer } from 'node:net'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { ROOT } from '../../scripts/services.mjs'
import { freePort } from '../helpers/ports.js'
import { spawnGroup, stopGroup } from '../helpers/processes.js'
import { startSystem } from '../helpers/system.js'

t.test('stopping movies: users answers 503 naming movies within 2 s, the gateway too; starting it heals', async (t) => {
  const system = await startSystem({ only: ['users', 'movies', 'showtimes', 'bookings', 'gateway'] })
  t.teardown(() => system.close())
  const users = system.url('users')
  const gateway = system.url('gateway')
  t.equal((await fetch(`${users}/users/dwight_schrute/bookings`)).status, 200)

  await system.stop('movies')
  // The users service reuses the catalog for CATALOG_CACHE_TTL_MS (1 s), so the 503 may take that long.
  const stoppedAt = Date.now()
  let straight = await fetch(`${users}/users/dwight_schrute/bookings`)
  while (straight.status === 200 && Date.now() - stoppedAt < 2_000) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    straight = await fetch(`${users}/users/dwight_schrute/bookings`)
  }
  const elapsed = Date.now() - stoppedAt
  t.equal(straight.status, 503)
  t.same(await straight.json(), {
    statusCode: 503,
    error: 'Service Unavailable',
    message: 'movies service is unavailable',
    code: 'PEER_UNAVAILABLE',
    service: 'movies',
  })
  t.ok(elapsed < 2_000, `503 naming movies ${elapsed} ms after it stopped`)

  const through = await fetch(`${gateway}/users/dwight_schrute/bookings`)
  t.equal(through.status, 503)
  t.match(await through.json(), { message: 'movies service is unavailable' })
  // The gateway passes the 503 on at once (no retries): as fast as users itself, give or take 50 ms.
  const medianMs = async (url: string) => {
    const times: number[] = []
    for (let i = 0; i < 21; i++) {
      const started = performance.now()
      const response = await fetch(url)
      await response.arrayBuffer()
      times.push(performance.now() - started)
      t.equal(response.status, 503, `${url}: 503`)
    }
    return times.sort((a, b) => a - b)[10] as number
  }
  const straightMs = await medianMs(`${users}/users/dwight_schrute/bookings`)
  const throughMs = await medianMs(`${gateway}/users/dwight_schrute/bookings`)
  t.comment(
    `time to 503 with movies down: straight ${straightMs.toFixed(1)} ms, through the gateway ${throughMs.toFixed(1)} ms`,
  )
  t.ok(
    throughMs - straightMs < 50,
    `through the gateway ${throughMs.toFixed(1)} ms, straight ${straightMs.toFixed(1)} ms`,
  )
  const direct = await fetch(`${gateway}/movies`)
  t.equal(direct.status, 503)
  t.match(direct.headers.get('content-type'), /application\/json/)
  t.same(await direct.json(), {
    statusCode: 503,
    error: 'Service Unavailable',
    message: 'movies service is unavailable',
    code: 'PEER_UNAVAILABLE',
    service: 'movies',
  })
  t.equal((await fetch(`${users}/users/dwight_schrute`)).status, 200, 'what needs no movies still works')

  await system.start('movies')
  const deadline = Date.now() + 5_000
  let healed = 0
  while (Date.now() < deadline && healed !== 200) {
    healed = (await fetch(`${users}/users/dwight_schrute/bookings`)).status
    if (healed !== 200) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.equal(healed, 200, 'back without restarting users')
  t.equal((await fetch(`${gateway}/movies`)).status, 200)
})

/** Starts a service's compiled `entry` while something holds `heldPort`: its exit code and its stderr. */
async function startWithPortTaken(t: Test, entry: string, env: NodeJS.ProcessEnv, heldPort: number) {
  const blocker = createServer().listen(heldPort, '127.0.0.1')
  await once(blocker, 'listening')
  t.teardown(() => blocker.close())
  const child = spawnGroup(process.execPath, [join(ROOT, entry)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  t.teardown(() => stopGroup(child, 'SIGKILL')) // had it started after all
  let stderr = ''
  child.stderr?.on('data', (chunk) => {
    stderr += chunk
  })
  const [code] = await once(child, 'exit')
  return { code, stderr }
}

t.test('a port already in use: one line naming the port, exit 1, no stack trace', async (t) => {
  const port = await freePort()
  const { code, stderr } = await startWithPortTaken(t, 'movies/dist/server.js', { PORT: String(port) }, port)
  t.equal(code, 1)
  t.equal(stderr, `movies: port ${port} is already in use; stop what holds it or set PORT\n`)
})

t.test('the gateway’s metrics port already in use: one line naming it and METRICS_PORT, exit 1', async (t) => {
  const [port, metricsPort] = [await freePort(), await freePort()]
  const env = { PORT: String(port), METRICS_PORT: String(metricsPort) }
  const { code, stderr } = await startWithPortTaken(t, 'gateway/dist/server.js', env, metricsPort)
  t.equal(code, 1)
  t.equal(stderr, `gateway: port ${metricsPort} is already in use; stop what holds it or set METRICS_PORT\n`)
})
