// Slow clients against every server of the system with its default settings: a body sent a byte
// every 2 s is cut off at REQUEST_TIMEOUT_MS (10 s), and everyone else is served meanwhile.
import t from 'tap'
import { trickle } from '../helpers/slow-client.js'
import { startSystem } from '../helpers/system.js'

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
// Served meanwhile: at least this many other requests answered while the slow one was held (it
// sends one every 250 ms, so about 40 on an idle machine; none if the slow client blocked the server).
const SERVED_WHILE_HELD = 3

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
  /** Each other request answered: when it was sent and when its answer was read. */
  const served = new Map<string, { sent: number; answered: number }[]>(names.map((name) => [name, []]))
  const others = names.map(async (name) => {
    while (!stop) {
      const sent = performance.now()
      const response = await fetch(`${system.url(name)}/livez`)
      await response.arrayBuffer()
      if (response.ok) served.get(name)?.push({ sent, answered: performance.now() })
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  })
  const slowOpened = performance.now()
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
    // Not how fast (a busy machine sets that) but that nothing waited for the slow client: a
    // request stuck behind it would be answered only once it is cut off, after the hold.
    const cutOff = slowOpened + heldMs
    const meanwhile = (served.get(name) ?? []).filter((request) => request.answered < cutOff)
    const slowest = Math.max(...meanwhile.map((request) => request.answered - request.sent))
    t.ok(meanwhile.length >= SERVED_WHILE_HELD, `${name}: ${meanwhile.length} other requests answered meanwhile`)
    t.ok(slowest < heldMs / 2, `${name}: the slowest of them took ${Math.round(slowest)} ms, under half the hold`)
  }
})
