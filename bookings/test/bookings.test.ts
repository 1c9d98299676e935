import { readFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import { showtimesService } from '../../showtimes/src/app.js'
import { bearer, DEMO_ADMIN, TestIssuer } from '../../test/helpers/auth.js'
import { build, deadUrl, json, listen, stub } from '../../test/helpers/servers.js'
import { bookingsService } from '../src/app.js'

const CREED = '267eedb8-0f5d-42d5-8f43-72426b9fb3e6'
const MARTIAN = 'a8034f44-aee4-44cf-b32c-74cf452aaaae'
const DINOSAUR = '720d006c-3a57-4b6a-b18f-9b713b073f3c'
const SEEDED = {
  chris_rivers: { '20151201': [CREED] },
  garret_heaton: { '20151201': [CREED], '20151202': ['276c79ec-a26a-40a6-b3d3-fb242a5947b6'] },
  dwight_schrute: {
    '20151201': ['7daf7208-be4d-4944-a3ae-c1c2f516f3e6', CREED],
    '20151205': [MARTIAN, '276c79ec-a26a-40a6-b3d3-fb242a5947b6'],
  },
}

// Signs the tokens of these tests; the users stand-in publishes its key.
const issuer = await TestIssuer.create()
/** `Authorization` of `username` (a customer unless `role` says otherwise). */
const as = async (username: string, role: 'customer' | 'admin' = 'customer') =>
  bearer(await issuer.token(username, { role }))

/**
 * The bookings service with a real showtimes service and a users stand-in that knows `users` and
 * serves the test issuer's keys.
 */
async function setup(t: Test, env: Record<string, string> = {}) {
  const showtimes = await build(t, showtimesService)
  const showtimesUrl = await listen(showtimes)
  const known = new Set([
    'dwight_schrute',
    'chris_rivers',
    'jim_halpert',
    ...Array.from({ length: 5 }, (_, i) => `user_${i}`),
  ])
  const users = await stub((req, res) => {
    if (TestIssuer.isJwksPath(req.url)) return json(res, 200, issuer.jwks)
    const username = decodeURIComponent(req.url?.split('/')[2] ?? '')
    if (known.has(username)) json(res, 200, { id: username, name: username, last_active: 0 })
    else json(res, 404, { statusCode: 404, error: 'Not Found', message: 'no such user' })
  })
  const app = await build(t, bookingsService, {
    USERS_URL: users.url,
    SHOWTIMES_URL: showtimesUrl,
    ...env,
  })
  t.teardown(() => users.close())
  return { app, users }
}

t.test('reads: the original bookings, per user, 404 for a user without any', async (t) => {
  const { app } = await setup(t)
  t.same((await app.inject('/')).json(), {
    uri: '/',
    subresource_uris: { bookings: '/bookings', booking: '/bookings/<username>' },
  })
  const all = await app.inject('/bookings')
  t.equal(all.statusCode, 200)
  t.equal(all.body, JSON.stringify(SEEDED), 'same data, same order as data/bookings.json')
  t.same((await app.inject('/bookings/dwight_schrute')).json(), SEEDED.dwight_schrute)
  const none = await app.inject('/bookings/jim_the_duck_guy')
  t.equal(none.statusCode, 404)
  t.same(none.json(), {
    statusCode: 404,
    error: 'Not Found',
    message: 'no bookings for jim_the_duck_guy',
    code: 'BOOKING_NOT_FOUND',
  })
})

t.test('PUT books once: 201 with the booking, then 200; the read shows it', async (t) => {
  const { app, users } = await setup(t)
  const jim = await as('jim_halpert')
  const put = () =>
    app.inject({
      method: 'PUT',
      url: `/bookings/jim_halpert/20151130/${DINOSAUR}`,
      headers: { 'x-request-id': 'book-1', 'content-type': 'application/json', ...jim },
      payload: '{"ignored": true}',
    })
  const created = await put()
  t.equal(created.statusCode, 201)
  t.same(created.json(), { username: 'jim_halpert', date: '20151130', movie_id: DINOSAUR })
  t.equal(created.headers.location, '/bookings/jim_halpert')
  t.equal(users.requests.at(-1)?.headers['x-request-id'], 'book-1', 'the request id reaches the users service')

  const again = await put()
  t.equal(again.statusCode, 200)
  t.same(again.json(), created.json())
  t.same((await app.inject('/bookings/jim_halpert')).json(), { '20151130': [DINOSAUR] })
})

t.test('PUT refuses what the owning services deny', async (t) => {
  const { app } = await setup(t)
  const admin = await as(DEMO_ADMIN, 'admin')
  const dwight = await as('dwight_schrute')
  const put = (path: string, headers = dwight) => app.inject({ method: 'PUT', url: `/bookings/${path}`, headers })

  const unknownUser = await put(`jim_the_duck_guy/20151201/${CREED}`, admin)
  t.equal(unknownUser.statusCode, 404)
  t.same(unknownUser.json(), {
    statusCode: 404,
    error: 'Not Found',
    message: 'user jim_the_duck_guy not found',
    code: 'USER_NOT_FOUND',
  })

  const notPlaying = await put(`dwight_schrute/20151130/${CREED}`)
  t.equal(notPlaying.statusCode, 422)
  t.same(notPlaying.json(), {
    statusCode: 422,
    error: 'Unprocessable Entity',
    message: `movie ${CREED} does not play on 20151130`,
    code: 'MOVIE_NOT_PLAYING',
  })

  const noShowsThatDay = await put(`dwight_schrute/20490101/${CREED}`)
  t.equal(noShowsThatDay.statusCode, 422)

  const unknownMovie = await put('dwight_schrute/20151201/b18f')
  t.equal(unknownMovie.statusCode, 422)

  const badDate = await put(`dwight_schrute/2015-12-01/${CREED}`)
  t.equal(badDate.statusCode, 400)
  t.equal(badDate.json().message, 'params/date must match format "YYYYMMDD"')

  t.same((await app.inject('/bookings/dwight_schrute')).json(), SEEDED.dwight_schrute, 'nothing was written')
})

t.test('DELETE cancels: 204, then 404', async (t) => {
  const { app } = await setup(t)
  const dwight = await as('dwight_schrute')
  const cancel = () =>
    app.inject({ method: 'DELETE', url: `/bookings/dwight_schrute/20151205/${MARTIAN}`, headers: dwight })
  const first = await cancel()
  t.equal(first.statusCode, 204)
  t.equal(first.body, '')
  const second = await cancel()
  t.equal(second.statusCode, 404)
  t.same(second.json(), {
    statusCode: 404,
    error: 'Not Found',
    message: `dwight_schrute has no booking of ${MARTIAN} on 20151205`,
    code: 'BOOKING_NOT_FOUND',
  })
  t.same((await app.inject('/bookings/dwight_schrute')).json()['20151205'], ['276c79ec-a26a-40a6-b3d3-fb242a5947b6'])
  t.equal(
    (await app.inject({ method: 'DELETE', url: `/bookings/dwight_schrute/12-05/${MARTIAN}`, headers: dwight }))
      .statusCode,
    400,
  )
})

t.test('peers down or slow: 503/504 naming them, nothing written', async (t) => {
  const slow = await stub(() => {}) // accepts and never answers
  t.teardown(() => slow.close())
  const { app } = await setup(t, { USERS_URL: await deadUrl(), PEER_TIMEOUT_MS: '300' })
  const dwight = await as('dwight_schrute')
  const down = await app.inject({
    method: 'PUT',
    url: `/bookings/dwight_schrute/20151130/${DINOSAUR}`,
    headers: dwight,
  })
  t.equal(down.statusCode, 503)
  t.same(down.json(), {
    statusCode: 503,
    error: 'Service Unavailable',
    message: 'users service is unavailable',
    code: 'PEER_UNAVAILABLE',
    service: 'users',
  })

  const { app: withSlowShowtimes } = await setup(t, { SHOWTIMES_URL: slow.url, PEER_TIMEOUT_MS: '300' })
  const started = Date.now()
  const timedOut = await withSlowShowtimes.inject({
    method: 'PUT',
    url: `/bookings/dwight_schrute/20151130/${DINOSAUR}`,
    headers: dwight,
  })
  t.equal(timedOut.statusCode, 504)
  t.equal(timedOut.json().message, 'showtimes service did not answer within 300 ms')
  t.ok(Date.now() - started < 2_500, 'bounded wait') // undici's timeouts fire on a 499 ms tick: up to a second late
  t.same((await app.inject('/bookings/dwight_schrute')).json(), SEEDED.dwight_schrute)
})

t.test('concurrency over HTTP: uniqueness is the database’s job', async (t) => {
  const { app } = await setup(t)
  const url = await listen(app)
  const schedule: Record<string, string[]> = JSON.parse(
    readFileSync(new URL('../../data/showtimes.json', import.meta.url), 'utf8'),
  )
  const pairs = Object.entries(schedule).flatMap(([date, movieIds]) => movieIds.map((movieId) => ({ date, movieId })))
  const distinct = Array.from({ length: 5 }, (_, i) => pairs.map((pair) => ({ ...pair, username: `user_${i}` })))
    .flat()
    .slice(0, 100)
  const tokens = new Map<string, Record<string, string>>()
  for (const username of ['jim_halpert', ...Array.from({ length: 5 }, (_, i) => `user_${i}`)]) {
    tokens.set(username, await as(username))
  }
  const put = ({ username, date, movieId }: { username: string; date: string; movieId: string }) =>
    fetch(`${url}/bookings/${username}/${date}/${movieId}`, { method: 'PUT', headers: tokens.get(username) }).then(
      (response) => response.status,
    )

  const statuses = await Promise.all(distinct.map(put))
  t.same(statuses.filter((status) => status === 201).length, 100, '100 concurrent PUTs of distinct bookings all land')
  const all = (await (await fetch(`${url}/bookings`)).json()) as Record<string, Record<string, string[]>>
  const stored = Object.entries(all)
    .filter(([username]) => username.startsWith('user_'))
    .flatMap(([, dates]) => Object.values(dates).flat())
  t.equal(stored.length, 100, 'and all 100 are stored')

  const same = { username: 'jim_halpert', date: '20151205', movieId: MARTIAN }
  const racing = await Promise.all(Array.from({ length: 20 }, () => put(same)))
  t.equal(racing.filter((status) => status === 201).length, 1, 'exactly one 201')
  t.equal(racing.filter((status) => status === 200).length, 19, 'the rest 200')
  t.same((await (await fetch(`${url}/bookings/jim_halpert`)).json()) as unknown, { '20151205': [MARTIAN] }, 'one row')
})
