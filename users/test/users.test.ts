import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { bookingsService } from '../../bookings/src/app.js'
import { moviesService } from '../../movies/src/app.js'
import { showtimesService } from '../../showtimes/src/app.js'
import { bearer, DEMO_ADMIN, DEMO_ENV, DEMO_PASSWORD, signInTo } from '../../test/helpers/auth.js'
import { build, deadUrl, json, listen, type Stub, stub } from '../../test/helpers/servers.js'
import { usersService } from '../src/app.js'

const movie = (id: string, title: string, director: string, rating: number) => ({
  id,
  title,
  director,
  rating,
  uri: `/movies/${id}`,
})
const DINOSAUR = movie('720d006c-3a57-4b6a-b18f-9b713b073f3c', 'The Good Dinosaur', 'Peter Sohn', 7.4)
const MARTIAN = movie('a8034f44-aee4-44cf-b32c-74cf452aaaae', 'The Martian', 'Ridley Scott', 8.2)
const NIGHT_BEFORE = movie('96798c08-d19b-4986-a05d-7da856efb697', 'The Night Before', 'Jonathan Levine', 7.4)
const SPECTRE = movie('39ab85e5-5e8e-4dc5-afea-65dc368bd7ab', 'Spectre', 'Sam Mendes', 7.1)

/** Real movies, showtimes and bookings services on ephemeral ports. */
async function startPeers(t: Test) {
  const apps: FastifyInstance[] = [
    await build(t, moviesService),
    await build(t, showtimesService),
    await build(t, bookingsService, { USERS_URL: await deadUrl() }),
  ]
  const [movies, showtimes, bookings] = await Promise.all(apps.map(listen))
  return { MOVIES_URL: movies as string, SHOWTIMES_URL: showtimes as string, BOOKINGS_URL: bookings as string }
}

const KEVIN_PASSWORD = 'kevin-chili-2015'

/** The users service as the demo runs it: the seeded users sign in with the demo password, michael_scott is an admin. */
async function startUsers(t: Test, env: Record<string, string>) {
  return build(t, usersService, { PEER_TIMEOUT_MS: '400', ...DEMO_ENV, ...env })
}

t.test('users service with real peers', async (t) => {
  const peers = await startPeers(t)
  const app = await startUsers(t, peers)

  t.test('GET / and the user collection, exactly as the original data', async (t) => {
    t.same((await app.inject('/')).json(), {
      uri: '/',
      subresource_uris: {
        users: '/users',
        user: '/users/<username>',
        bookings: '/users/<username>/bookings',
        suggested: '/users/<username>/suggested',
      },
    })
    const users = await app.inject('/users')
    t.equal(users.statusCode, 200)
    t.same(Object.keys(users.json()), [
      'chris_rivers',
      'peter_curley',
      'garret_heaton',
      'michael_scott',
      'jim_halpert',
      'pam_beesly',
      'dwight_schrute',
    ])
    t.equal(
      (await app.inject('/users/chris_rivers')).body,
      '{"id":"chris_rivers","name":"Chris Rivers","last_active":1360031010}',
    )
    const unknown = await app.inject('/users/jim_the_duck_guy')
    t.equal(unknown.statusCode, 404)
    t.same(unknown.json(), {
      statusCode: 404,
      error: 'Not Found',
      message: 'user jim_the_duck_guy not found',
      code: 'USER_NOT_FOUND',
    })
  })

  t.test('GET /users/{u}/bookings joins bookings with movie title, rating and uri', async (t) => {
    const response = await app.inject({ url: '/users/dwight_schrute/bookings', headers: { 'x-request-id': 'join-1' } })
    t.equal(response.statusCode, 200)
    t.same(response.json(), {
      '20151201': [
        { title: 'Victor Frankenstein', rating: 6.4, uri: '/movies/7daf7208-be4d-4944-a3ae-c1c2f516f3e6' },
        { title: 'Creed', rating: 8.8, uri: '/movies/267eedb8-0f5d-42d5-8f43-72426b9fb3e6' },
      ],
      '20151205': [
        { title: 'The Martian', rating: 8.2, uri: MARTIAN.uri },
        { title: 'The Danish Girl', rating: 5.3, uri: '/movies/276c79ec-a26a-40a6-b3d3-fb242a5947b6' },
      ],
    })
    t.same((await app.inject('/users/jim_halpert/bookings')).json(), {}, 'a known user without bookings gets {}')
    t.equal((await app.inject('/users/jim_the_duck_guy/bookings')).statusCode, 404)
  })

  t.test('GET /users/{u}/suggested: playing, not booked, best rated first, ties by title', async (t) => {
    t.equal(
      (await app.inject('/users/dwight_schrute/suggested')).body,
      JSON.stringify([DINOSAUR, NIGHT_BEFORE, SPECTRE]),
    )
    t.same((await app.inject('/users/chris_rivers/suggested')).json(), [MARTIAN, DINOSAUR, NIGHT_BEFORE])
    t.same((await app.inject('/users/dwight_schrute/suggested?limit=1')).json(), [DINOSAUR])
    t.equal((await app.inject('/users/jim_halpert/suggested?limit=20')).json().length, 7)
    for (const limit of ['0', '21', 'three', '1.5']) {
      const response = await app.inject(`/users/dwight_schrute/suggested?limit=${limit}`)
      t.equal(response.statusCode, 400, `limit=${limit}`)
      t.match(response.json().message, /^querystring\/limit must/)
    }
    t.equal((await app.inject('/users/jim_the_duck_guy/suggested')).statusCode, 404)
  })

  t.test('writes: create, rename, delete with the documented status codes', async (t) => {
    const before = Math.floor(Date.now() / 1000)
    const created = await app.inject({
      method: 'POST',
      url: '/users',
      payload: { id: 'kevin_malone', name: ' Kevin ', password: KEVIN_PASSWORD },
    })
    t.equal(created.statusCode, 201)
    t.equal(created.headers.location, '/users/kevin_malone')
    const user = created.json()
    t.equal(user.name, 'Kevin', 'names are trimmed')
    t.ok(user.last_active >= before && user.last_active <= before + 5, 'last_active is now')
    t.same(Object.keys(user).sort(), ['id', 'last_active', 'name'], 'no password or hash in the answer')

    const taken = await app.inject({
      method: 'POST',
      url: '/users',
      payload: { id: 'kevin_malone', name: 'Other', password: 'another-password' },
    })
    t.equal(taken.statusCode, 409)
    t.equal(taken.json().message, 'user id kevin_malone is already taken')

    const password = 'a-good-password'
    for (const [payload, message] of [
      [{ id: 'Kevin!', name: 'K', password }, /^body\/id must match pattern/],
      [{ id: 'k', name: '   ', password }, /^body\/name must not be blank$/],
      [{ id: 'k', name: '', password }, /^body\/name must/],
      [{ id: 'k', password }, /^body must have required properties name$/],
      [{ id: 'k', name: 'K' }, /^body must have required properties password$/],
      [{ id: 'k', name: 'K', password: 'too-short' }, /^body\/password must/],
      [{ id: 'k', name: 'K', password: 'x'.repeat(129) }, /^body\/password must/],
      [{ id: 'k', name: 'K', password, admin: true }, /^body has unknown property "admin"$/],
    ] as const) {
      const response = await app.inject({ method: 'POST', url: '/users', payload })
      t.equal(response.statusCode, 400, JSON.stringify(payload))
      t.match(response.json().message, message)
    }

    const kevin = bearer(await signInTo(app, 'kevin_malone', KEVIN_PASSWORD))
    const admin = bearer(await signInTo(app, DEMO_ADMIN))
    const renamed = await app.inject({
      method: 'PATCH',
      url: '/users/kevin_malone',
      headers: kevin,
      payload: { name: 'Kevin Malone' },
    })
    t.equal(renamed.statusCode, 200)
    t.same(renamed.json(), { ...user, name: 'Kevin Malone' })
    t.equal(
      (await app.inject({ method: 'PATCH', url: '/users/nobody', headers: admin, payload: { name: 'X' } })).statusCode,
      404,
    )
    t.equal(
      (await app.inject({ method: 'PATCH', url: '/users/kevin_malone', headers: kevin, payload: { name: '' } }))
        .statusCode,
      400,
    )

    const booked = await app.inject({
      method: 'DELETE',
      url: '/users/dwight_schrute',
      headers: bearer(await signInTo(app, 'dwight_schrute')),
      payload: { current_password: DEMO_PASSWORD },
    })
    t.equal(booked.statusCode, 409)
    t.same(booked.json(), {
      statusCode: 409,
      error: 'Conflict',
      message: 'dwight_schrute still has 4 bookings; cancel them first',
      code: 'USER_HAS_BOOKINGS',
    })

    const deleted = await app.inject({
      method: 'DELETE',
      url: '/users/kevin_malone',
      headers: kevin,
      payload: { current_password: KEVIN_PASSWORD },
    })
    t.equal(deleted.statusCode, 204)
    t.equal((await app.inject('/users/kevin_malone')).statusCode, 404)
    t.equal((await app.inject({ method: 'DELETE', url: '/users/kevin_malone', headers: admin })).statusCode, 404)
  })
})

t.test('peer failures: 503 naming a peer that is down, 504 for one too slow, never a hang or a 500', async (t) => {
  const peers = await startPeers(t)
  const neverAnswers = await stub(() => {})
  t.teardown(() => neverAnswers.close())

  const noMovies = await startUsers(t, { ...peers, MOVIES_URL: await deadUrl() })
  const started = Date.now()
  const down = await noMovies.inject('/users/dwight_schrute/bookings')
  t.equal(down.statusCode, 503)
  t.same(down.json(), {
    statusCode: 503,
    error: 'Service Unavailable',
    message: 'movies service is unavailable',
    code: 'PEER_UNAVAILABLE',
    service: 'movies',
  })
  t.ok(Date.now() - started < 2_000, 'within 2 s')
  t.equal((await noMovies.inject('/users/jim_the_duck_guy/bookings')).statusCode, 404, 'unknown user stays 404')
  t.equal((await noMovies.inject('/users/dwight_schrute')).statusCode, 200, 'own data still served')

  const noBookings = await startUsers(t, { ...peers, BOOKINGS_URL: await deadUrl() })
  t.equal(
    (await noBookings.inject('/users/dwight_schrute/suggested')).json().message,
    'bookings service is unavailable',
  )
  const deleting = await noBookings.inject({
    method: 'DELETE',
    url: '/users/pam_beesly',
    headers: bearer(await signInTo(noBookings, 'pam_beesly')),
    payload: { current_password: DEMO_PASSWORD },
  })
  t.equal(deleting.statusCode, 503, 'no delete without asking bookings')
  t.equal((await noBookings.inject('/users/pam_beesly')).statusCode, 200, 'and nothing deleted')

  const slowShowtimes = await startUsers(t, { ...peers, SHOWTIMES_URL: neverAnswers.url })
  const slowStarted = Date.now()
  const slow = await slowShowtimes.inject('/users/dwight_schrute/suggested')
  t.equal(slow.statusCode, 504)
  t.same(slow.json(), {
    statusCode: 504,
    error: 'Gateway Timeout',
    message: 'showtimes service did not answer within 400 ms',
    code: 'PEER_TIMEOUT',
    service: 'showtimes',
  })
  t.ok(Date.now() - slowStarted < 2_500, 'bounded by the peer timeout') // undici's timeouts fire on a 499 ms tick: up to a second late
})

t.test('peer calls run in parallel, pass the request id, and the catalogs are reused for a short while', async (t) => {
  const peers = await startPeers(t)
  const DELAY_MS = 300
  const arrivals: number[] = []
  const delayed = (target: string): Promise<Stub> =>
    stub((req, res) => {
      arrivals.push(performance.now())
      setTimeout(async () => {
        const upstream = await fetch(`${target}${req.url}`)
        json(res, upstream.status, await upstream.json())
      }, DELAY_MS)
    })
  const [movies, showtimes, bookings] = await Promise.all([
    delayed(peers.MOVIES_URL),
    delayed(peers.SHOWTIMES_URL),
    delayed(peers.BOOKINGS_URL),
  ])
  t.teardown(() => Promise.all([movies.close(), showtimes.close(), bookings.close()]))
  const app = await startUsers(t, {
    MOVIES_URL: movies.url,
    SHOWTIMES_URL: showtimes.url,
    BOOKINGS_URL: bookings.url,
    PEER_TIMEOUT_MS: '2000',
    CATALOG_CACHE_TTL_MS: '60000',
  })

  // Two requests at once: each one's own calls carry its id; the catalog fetch they share carries neither.
  const first = await Promise.all(
    ['trace-me', 'and-me'].map((id) =>
      app.inject({ url: '/users/dwight_schrute/suggested', headers: { 'x-request-id': id } }),
    ),
  )
  t.same(
    first.map((response) => response.statusCode),
    [200, 200],
  )
  // In parallel: every peer was asked before the first of them answered (a sum of wall times
  // would also count how busy the machine is).
  const spreadMs = Math.max(...arrivals) - Math.min(...arrivals)
  t.equal(arrivals.length, 4, 'movies, showtimes, and bookings for each request')
  t.ok(spreadMs < DELAY_MS, `all asked within ${Math.round(spreadMs)} ms, before any of them answered (${DELAY_MS} ms)`)
  t.same(bookings.requests.map((request) => request.headers['x-request-id']).sort(), ['and-me', 'trace-me'])
  for (const peer of [movies, showtimes]) {
    t.equal(peer.requests.length, 1, 'one fetch served both requests')
    t.equal(peer.requests[0]?.headers['x-request-id'], undefined, "the shared fetch is neither request's")
  }

  await app.inject('/users/dwight_schrute/suggested')
  await app.inject('/users/chris_rivers/bookings')
  t.equal(movies.requests.length, 1, 'the movie catalog was fetched once')
  t.equal(showtimes.requests.length, 1, 'the schedule was fetched once')
  t.equal(bookings.requests.length, 4, 'bookings are never cached')
})
