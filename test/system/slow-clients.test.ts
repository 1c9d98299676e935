// Slow clients against every server of the system with its default settings: a body sent a byte
// every 2 s is cut off at REQUEST_TIMEOUT_MS (10 s), and everyone else is served meanwhile.
import t from 'tap'
import { trickle } from '../helpers/slow-client.js'
import { startSystem } from '../helpers/system.js'

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
// Starting the system on a busy machine takes up to ~30 s, the slow clients 10 s more.
t.setTimeout(120_000)

// A path of each server that takes a JSON body (the UI's /api/ goes on to the gateway).
const BODY_PATHS: Record<string, string> = {
  users: '/users',
  movies: '/movies',
  showtimes: '/showtimes',
  bookings: '/bookings/dwight_schrute/20151201/267eedb8-0f5d-42d5-8f43-72426b9fb3e6',
  gateway: '/users',
  ui: '/api/users',
}

t.test('every server cuts off a body sent a byte every 2 s, and serves others meanwhile', async (t) => {
  const system = await startSystem()
  t.teardown(() => system.close())
  const names = Object.keys(BODY_PATHS)

  let stop = false
  const served = new Map<string, number[]>(names.map((name) => [name, []]))
  const others = names.map(async (name) => {
    while (!stop) {
      const started = performance.now()
      const response = await fetch(`${system.url(name)}/livez`)
      await response.arrayBuffer()
      if (response.ok) served.get(name)?.push(performance.now() - started)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  })
  const slow = await Promise.all(
    names.map((name) =>
      trickle(system.url(name), {
        head: `POST ${BODY_PATHS[name]} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`,
        everyMs: 2_000,
        giveUpMs: 30_000,
      }),
    ),
  )
  stop = true
  await Promise.all(others)

  for (const [index, name] of names.entries()) {
    const { heldMs, answer } = slow[index] ?? { heldMs: Number.NaN, answer: '' }
    t.comment(`${name}: a byte every 2 s, cut off after ${(heldMs / 1000).toFixed(1)} s`)
    t.ok(
      heldMs >= DEFAULT_REQUEST_TIMEOUT_MS - 500 && heldMs < DEFAULT_REQUEST_TIMEOUT_MS + 5_000, // given up at 30 s
      `${name}: held ${Math.round(heldMs)} ms`,
    )
    t.match(answer, /^HTTP\/1\.1 408/, `${name}: told 408 Request Timeout`)
    const times = served.get(name) ?? []
    t.ok(times.length >= 20, `${name}: ${times.length} other requests answered meanwhile`)
    t.ok(Math.max(...times) < 1_000, `${name}: the slowest of them took ${Math.round(Math.max(...times))} ms`)
  }
})
