// Input an attacker would send (issue 10): usernames naming Object.prototype members, control
// characters and lone surrogates, names that show nothing. Users and bookings together, calling each
// other, with real movies and showtimes, on PGlite and on PostgreSQL.
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { bookingsService } from '../../bookings/src/app.js'
import { moviesService } from '../../movies/src/app.js'
import { showtimesService } from '../../showtimes/src/app.js'
import { bearer, DEMO_ADMIN, DEMO_ENV, signInTo } from '../../test/helpers/auth.js'
import { freePort } from '../../test/helpers/ports.js'
import { startPostgres } from '../../test/helpers/postgres.js'
import { build, listen } from '../../test/helpers/servers.js'
import { usersService } from '../src/app.js'

const DINOSAUR = '720d006c-3a57-4b6a-b18f-9b713b073f3c'
const MARTIAN = 'a8034f44-aee4-44cf-b32c-74cf452aaaae'
// Members of Object.prototype; only the lowercase ones can be user ids (^[a-z0-9_]{1,64}$).
const PROTOTYPE_IDS = ['__proto__', 'constructor']
const PROTOTYPE_LOOKUPS = ['toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__']
const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort()
const PASSWORD = 'prototype-pollution'

interface Services {
  users: FastifyInstance
  bookings: FastifyInstance
}

/**
 * Users and bookings, each calling the other over HTTP (bookings checks tokens with the users
 * service's keys), with real movies and showtimes; the seeded users sign in as in the demo.
 */
async function startServices(t: Test, databaseUrl?: (service: string) => Promise<string>): Promise<Services> {
  const movies = await build(t, moviesService)
  const showtimes = await build(t, showtimesService)
  const [moviesUrl, showtimesUrl] = await Promise.all([listen(movies), listen(showtimes)])
  const usersPort = await freePort()
  const database = async (service: string) => (databaseUrl ? { DATABASE_URL: await databaseUrl(service) } : {})
  const bookings = await build(t, bookingsService, {
    USERS_URL: `http://127.0.0.1:${usersPort}`,
    SHOWTIMES_URL: showtimesUrl,
    ...(await database('bookings')),
  })
  const users = await build(t, usersService, {
    MOVIES_URL: moviesUrl,
    SHOWTIMES_URL: showtimesUrl,
    BOOKINGS_URL: await listen(bookings),
    ...DEMO_ENV,
    ...(await database('users')),
  })
  await users.listen({ host: '127.0.0.1', port: usersPort })
  return { users, bookings }
}

async function prototypeNamedUsers(t: Test, { users, bookings }: Services) {
  const allBefore = (await bookings.inject('/bookings')).body
  const dwightBefore = (await bookings.inject('/bookings/dwight_schrute')).body
  const usersBefore = (await users.inject('/users')).body
  const unbooked = (await users.inject('/users/jim_halpert/suggested?limit=20')).json() as { id: string }[]

  for (const id of PROTOTYPE_IDS) {
    t.equal((await users.inject(`/users/${id}`)).statusCode, 404, `${id} does not exist yet`)
    t.equal((await bookings.inject(`/bookings/${id}`)).statusCode, 404, `${id} has no bookings yet`)
    const created = await users.inject({
      method: 'POST',
      url: '/users',
      payload: { id, name: `Mr ${id}`, password: PASSWORD },
    })
    t.equal(created.statusCode, 201, `${id} created`)
    t.match(created.json(), { id, name: `Mr ${id}` })
  }
  // Each acts for themselves, with the token the users service gave them.
  const tokens = new Map<string, Record<string, string>>()
  for (const id of PROTOTYPE_IDS) tokens.set(id, bearer(await signInTo(users, id, PASSWORD)))
  const as = (id: string) => tokens.get(id) ?? {}
  const put = (id: string, date: string, movieId: string) =>
    bookings.inject({ method: 'PUT', url: `/bookings/${id}/${date}/${movieId}`, headers: as(id) })
  t.equal((await put('__proto__', '20151130', DINOSAUR)).statusCode, 201)
  t.equal((await put('__proto__', '20151203', DINOSAUR)).statusCode, 201)
  t.equal((await put('__proto__', '20151130', DINOSAUR)).statusCode, 200, 'again: already booked')
  t.equal((await put('constructor', '20151130', MARTIAN)).statusCode, 201)

  const all = await bookings.inject('/bookings')
  t.equal(all.statusCode, 200)
  t.equal(
    all.body,
    `${allBefore.slice(0, -1)},"__proto__":{"20151130":["${DINOSAUR}"],"20151203":["${DINOSAUR}"]},` +
      `"constructor":{"20151130":["${MARTIAN}"]}}`,
    'every other user’s bookings unchanged; the new ones under their own names',
  )
  t.equal((await bookings.inject('/bookings/dwight_schrute')).body, dwightBefore, 'dwight_schrute unchanged')
  t.equal((await bookings.inject('/bookings/jim_halpert')).statusCode, 404, 'jim_halpert still has none')
  const own = await bookings.inject('/bookings/__proto__')
  t.equal(own.statusCode, 200)
  t.equal(own.body, `{"20151130":["${DINOSAUR}"],"20151203":["${DINOSAUR}"]}`)
  t.equal((await bookings.inject('/bookings/constructor')).body, `{"20151130":["${MARTIAN}"]}`)
  for (const name of PROTOTYPE_LOOKUPS) {
    t.equal((await bookings.inject(`/bookings/${name}`)).statusCode, 404, `no bookings for ${name}`)
    t.equal((await users.inject(`/users/${name}`)).statusCode, 404, `no user ${name}`)
    t.equal((await users.inject(`/users/${name}/bookings`)).statusCode, 404, `no user ${name} to join`)
    t.equal((await users.inject(`/users/${name}/suggested`)).statusCode, 404, `no user ${name} to suggest to`)
  }

  const list = await users.inject('/users')
  t.equal(list.statusCode, 200)
  t.equal(list.body.slice(0, usersBefore.length - 1), usersBefore.slice(0, -1), 'the other users unchanged')
  t.same(Object.keys(JSON.parse(list.body)).slice(-2), PROTOTYPE_IDS, 'the new users last, under their own ids')
  t.match((await users.inject('/users/__proto__')).json(), { id: '__proto__', name: 'Mr __proto__' })
  const booked = await users.inject('/users/__proto__/bookings')
  t.equal(booked.statusCode, 200)
  const dinosaur = { title: 'The Good Dinosaur', rating: 7.4, uri: `/movies/${DINOSAUR}` }
  t.equal(booked.body, JSON.stringify({ '20151130': [dinosaur], '20151203': [dinosaur] }))
  const suggested = await users.inject('/users/__proto__/suggested')
  t.equal(suggested.statusCode, 200)
  t.same(
    suggested.json(),
    unbooked.filter((movie) => movie.id !== DINOSAUR).slice(0, 3),
    'suggestions leave out what __proto__ booked',
  )
  const renamed = await users.inject({
    method: 'PATCH',
    url: '/users/constructor',
    headers: as('constructor'),
    payload: { name: 'Builder' },
  })
  t.equal(renamed.statusCode, 200)
  t.match(renamed.json(), { id: 'constructor', name: 'Builder' })

  const refused = await users.inject({
    method: 'DELETE',
    url: '/users/__proto__',
    headers: as('__proto__'),
    payload: { current_password: PASSWORD },
  })
  t.equal(refused.statusCode, 409)
  t.equal(refused.json().message, '__proto__ still has 2 bookings; cancel them first')
  for (const date of ['20151130', '20151203']) {
    t.equal(
      (
        await bookings.inject({
          method: 'DELETE',
          url: `/bookings/__proto__/${date}/${DINOSAUR}`,
          headers: as('__proto__'),
        })
      ).statusCode,
      204,
    )
  }
  t.equal(
    (
      await bookings.inject({
        method: 'DELETE',
        url: `/bookings/constructor/20151130/${MARTIAN}`,
        headers: as('constructor'),
      })
    ).statusCode,
    204,
  )
  t.equal((await bookings.inject('/bookings/__proto__')).statusCode, 404, 'no bookings left')
  t.equal((await users.inject('/users/__proto__/bookings')).body, '{}', 'a known user without bookings gets {}')
  for (const id of PROTOTYPE_IDS) {
    t.equal(
      (
        await users.inject({
          method: 'DELETE',
          url: `/users/${id}`,
          headers: as(id),
          payload: { current_password: PASSWORD },
        })
      ).statusCode,
      204,
      `${id} deleted`,
    )
    t.equal((await users.inject(`/users/${id}`)).statusCode, 404)
  }
  t.equal((await bookings.inject('/bookings')).body, allBefore, 'bookings as they were')
  t.equal((await users.inject('/users')).body, usersBefore, 'users as they were')

  for (const app of [users, bookings]) {
    const metrics = await app.inject('/metrics')
    t.equal(metrics.statusCode, 200)
    t.match(metrics.body, /http_request_duration_seconds_count\{method="GET"/)
    t.equal((await app.inject('/livez')).statusCode, 200)
  }
  t.same(Object.getOwnPropertyNames(Object.prototype).sort(), PROTOTYPE_KEYS, 'Object.prototype untouched')
  t.equal(({} as Record<string, unknown>)['20151130'], undefined)
}

const CONTROL = 'must not contain control characters'

async function controlCharacters(t: Test, { users, bookings }: Services) {
  // Writes with an admin's token: the 400 is for the input, not for a missing caller.
  const admin = bearer(await signInTo(users, DEMO_ADMIN))
  const pam = bearer(await signInTo(users, 'pam_beesly'))
  const refusals: [FastifyInstance, string, string, object?][] = [
    [users, 'GET', '/users/a%00b'],
    [users, 'GET', '/users/a%00b/bookings'],
    [users, 'GET', '/users/a%00b/suggested'],
    [users, 'GET', '/users/a%C2%9Fb'],
    [users, 'PATCH', '/users/a%00b', { name: 'X' }],
    [users, 'DELETE', '/users/a%7Fb'],
    [bookings, 'GET', '/bookings/a%00b'],
    [bookings, 'PUT', `/bookings/a%00b/20151130/${DINOSAUR}`],
    [bookings, 'DELETE', `/bookings/a%00b/20151130/${DINOSAUR}`],
  ]
  for (const [app, method, url, payload] of refusals) {
    const headers = method === 'GET' ? {} : admin
    const response = await app.inject({ method: method as 'GET', url, headers, ...(payload ? { payload } : {}) })
    t.equal(response.statusCode, 400, `${method} ${url}`)
    t.same(response.json(), {
      statusCode: 400,
      error: 'Bad Request',
      message: `params/username ${CONTROL}`,
      code: 'VALIDATION_FAILED',
    })
  }
  const movie = await bookings.inject({
    method: 'PUT',
    url: '/bookings/dwight_schrute/20151130/a%00b',
    headers: admin,
  })
  t.equal(movie.json().message, `params/movieId ${CONTROL}`)
  const query = await users.inject('/users/dwight_schrute/suggested?limit=2&x=%00')
  t.equal(query.statusCode, 400)
  t.equal(query.json().message, `querystring/x ${CONTROL}`)

  for (const name of ['a\u0000b', 'tab\there', 'c1\u0085']) {
    const created = await users.inject({
      method: 'POST',
      url: '/users',
      payload: { id: 'kevin_malone', name, password: PASSWORD },
    })
    t.equal(created.statusCode, 400, JSON.stringify(name))
    t.equal(created.json().message, `body/name ${CONTROL}`)
    const renamed = await users.inject({ method: 'PATCH', url: '/users/pam_beesly', headers: pam, payload: { name } })
    t.equal(renamed.statusCode, 400, JSON.stringify(name))
  }
  const surrogate = await users.inject({
    method: 'POST',
    url: '/users',
    payload: { id: 'kevin_malone', name: 'K\ud800', password: PASSWORD },
  })
  t.equal(surrogate.statusCode, 400)
  t.equal(surrogate.json().message, 'body/name must not contain lone surrogates (malformed UTF-16)')
  t.equal((await users.inject('/users/kevin_malone')).statusCode, 404, 'nothing written')
  t.match((await users.inject('/users/pam_beesly')).json(), { name: 'Pam Beesly' }, 'nothing renamed')
}

async function badInputOpensNoBreaker(t: Test, { users }: Services) {
  // Before the fix each of these was a 500 from bookings, counted against it: five opened the
  // users → bookings breaker, and everyone's bookings and suggestions got 503 for a while.
  for (let call = 0; call < 10; call++) {
    t.equal((await users.inject('/users/a%00b/bookings')).statusCode, 400)
    t.equal((await users.inject('/users/a%00b/suggested')).statusCode, 400)
  }
  const good = await users.inject('/users/dwight_schrute/bookings')
  t.equal(good.statusCode, 200, good.body)
  t.equal((await users.inject('/users/dwight_schrute/suggested')).statusCode, 200)
}

async function invisibleNames(t: Test, { users }: Services) {
  const pam = bearer(await signInTo(users, 'pam_beesly'))
  const invisible = [
    '\u200b\u200d', // zero-width space, zero-width joiner
    '\u2060', // word joiner
    '\ufeff', // byte order mark
    ' \u200c\u00a0', // zero-width non-joiner among spaces
    '\u0301\u0308', // combining marks with nothing to sit on
    '\u3164', // Hangul filler
    '\u2800', // blank Braille pattern
    '\u00ad\u034f\ufe0f', // soft hyphen, grapheme joiner, variation selector
    '\u202e\u200e', // bidi override and mark
    '\u{1d159}', // musical symbol null notehead, drawn as nothing
    '\u0378\uffff\u{e0080}', // unassigned, a noncharacter, an unassigned tag
  ]
  // (U+FEFF is white space to String.prototype.trim: "blank" alone then.)
  const message = /^body\/name must not be blank(: it has no visible character)?$/
  for (const name of invisible) {
    const created = await users.inject({
      method: 'POST',
      url: '/users',
      payload: { id: 'kevin_malone', name, password: PASSWORD },
    })
    t.equal(created.statusCode, 400, JSON.stringify(name))
    t.match(created.json(), { statusCode: 400, error: 'Bad Request', message })
    const renamed = await users.inject({ method: 'PATCH', url: '/users/pam_beesly', headers: pam, payload: { name } })
    t.equal(renamed.statusCode, 400, JSON.stringify(name))
    t.match(renamed.json().message, message)
  }
  const zeroWidth = await users.inject({
    method: 'POST',
    url: '/users',
    payload: { id: 'kevin_malone', name: '\u200b', password: PASSWORD },
  })
  t.equal(zeroWidth.json().message, 'body/name must not be blank: it has no visible character')
  t.equal((await users.inject('/users/kevin_malone')).statusCode, 404, 'nothing created')
  t.match((await users.inject('/users/pam_beesly')).json(), { name: 'Pam Beesly' }, 'nothing renamed')
  const visible = await users.inject({
    method: 'PATCH',
    url: '/users/pam_beesly',
    headers: pam,
    payload: { name: '\u200bPam\u0301' },
  })
  t.equal(visible.statusCode, 200, 'invisible characters beside visible ones are fine')
}

async function suite(t: Test, services: Services) {
  await t.test('usernames naming Object.prototype members work like any other', (t) => prototypeNamedUsers(t, services))
  await t.test('control characters and lone surrogates: 400 before the database', (t) => controlCharacters(t, services))
  await t.test('bad input opens no breaker: the next good call is served', (t) => badInputOpensNoBreaker(t, services))
  await t.test('names made only of invisible characters are refused like blank ones', (t) =>
    invisibleNames(t, services),
  )
}

t.test('on PGlite', async (t) => suite(t, await startServices(t)))

t.test('on PostgreSQL', async (t) => {
  const postgres = await startPostgres()
  t.teardown(() => postgres.close())
  await suite(t, await startServices(t, (service) => postgres.createDatabase(`${service}_${process.pid}`)))
})
