// Issue 10's attacks on the running system, through the gateway, on PGlite and on PostgreSQL: a user
// named __proto__ with a booking (which used to corrupt every user's bookings and crash bookings at
// each start), and NUL bytes (which used to be 500s that opened the breakers for everyone).
import t, { type Test } from 'tap'
import { bearer, signIn } from '../helpers/auth.js'
import { startPostgres } from '../helpers/postgres.js'
import { type RunningSystem, type SystemOptions, startSystem } from '../helpers/system.js'

const DINOSAUR = '720d006c-3a57-4b6a-b18f-9b713b073f3c'
const SERVICES = ['users', 'movies', 'showtimes', 'bookings', 'gateway']
const PASSWORD = 'prototype-pollution'

/** Calls through the gateway, as the holder of `token` when one is given. */
function client(system: RunningSystem) {
  const gateway = system.url('gateway')
  return (method: string, path: string, body?: unknown, token?: string) =>
    fetch(`${gateway}${path}`, {
      method,
      headers: {
        ...(token === undefined ? {} : bearer(token)),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
}

async function prototypeNamedUser(t: Test, system: RunningSystem, persistent: boolean) {
  const call = client(system)
  const allBefore = await (await call('GET', '/bookings')).text()
  const dwightBefore = await (await call('GET', '/bookings/dwight_schrute')).text()

  t.equal((await call('POST', '/users', { id: '__proto__', name: 'Proto', password: PASSWORD })).status, 201)
  const proto = await signIn(system.url('gateway'), '__proto__', PASSWORD)
  t.equal((await call('PUT', `/bookings/__proto__/20151130/${DINOSAUR}`, undefined, proto)).status, 201)

  const expectedAll = `${allBefore.slice(0, -1)},"__proto__":{"20151130":["${DINOSAUR}"]}}`
  const checkReads = async (when: string) => {
    const all = await call('GET', '/bookings')
    t.equal(all.status, 200, `GET /bookings ${when}`)
    t.equal(await all.text(), expectedAll, `every other user’s bookings unchanged ${when}`)
    t.equal((await call('GET', '/bookings/jim_halpert')).status, 404, `jim_halpert still has none ${when}`)
    t.equal(await (await call('GET', '/bookings/dwight_schrute')).text(), dwightBefore, `dwight unchanged ${when}`)
    const own = await call('GET', '/bookings/__proto__')
    t.equal(own.status, 200)
    t.equal(await own.text(), `{"20151130":["${DINOSAUR}"]}`, `__proto__’s own bookings ${when}`)
    t.equal((await call('GET', '/bookings/constructor')).status, 404)
    const joined = await call('GET', '/users/__proto__/bookings')
    t.equal(joined.status, 200)
    t.match(await joined.json(), { '20151130': [{ title: 'The Good Dinosaur' }] })
    t.equal((await call('GET', '/users/__proto__/suggested')).status, 200)
  }
  await checkReads('after booking')

  if (persistent) {
    // The corrupted read used to crash bookings again at every start.
    await system.stop('bookings')
    await system.start('bookings')
    await checkReads('after bookings restarted')
  }

  for (const name of ['users', 'bookings']) {
    const metrics = await fetch(`${system.url(name)}/metrics`)
    t.equal(metrics.status, 200, `${name} /metrics`)
    t.match(await metrics.text(), /http_request_duration_seconds_count/)
  }

  const refused = await call('DELETE', '/users/__proto__', { current_password: PASSWORD }, proto)
  t.equal(refused.status, 409)
  t.equal(((await refused.json()) as { message: string }).message, '__proto__ still has 1 booking; cancel them first')
  t.equal((await call('DELETE', `/bookings/__proto__/20151130/${DINOSAUR}`, undefined, proto)).status, 204)
  t.equal(
    (await call('DELETE', '/users/__proto__', { current_password: PASSWORD }, proto)).status,
    204,
    'deleted once its booking is cancelled',
  )
  t.equal((await call('GET', '/users/__proto__')).status, 404)
  t.equal(await (await call('GET', '/bookings')).text(), allBefore, 'bookings as they were')
}

async function nulBytes(t: Test, system: RunningSystem) {
  const call = client(system)
  for (const path of ['/users/a%00b', '/users/a%00b/bookings', '/users/a%00b/suggested', '/bookings/a%00b']) {
    const response = await call('GET', path)
    t.equal(response.status, 400, path)
    t.same(await response.json(), {
      statusCode: 400,
      error: 'Bad Request',
      message: 'params/username must not contain control characters',
      code: 'VALIDATION_FAILED',
    })
  }
  const named = await call('POST', '/users', { id: 'kevin_malone', name: 'Kevin\u0000Malone', password: PASSWORD })
  t.equal(named.status, 400)
  t.equal(((await named.json()) as { message: string }).message, 'body/name must not contain control characters')

  // Five such calls used to open the users → bookings breaker: 503 for everyone for a while.
  for (let attempt = 0; attempt < 10; attempt++) {
    t.equal((await call('GET', '/users/a%00b/bookings')).status, 400)
  }
  const good = await call('GET', '/users/dwight_schrute/bookings')
  t.equal(good.status, 200, 'a good call right after is served')
  t.equal((await call('GET', '/users/dwight_schrute/suggested')).status, 200)
}

/** `persistent`: the databases outlive a restart (PGlite runs in memory here: a fresh data directory's initdb is slow on a busy machine). */
async function suite(t: Test, options: SystemOptions, persistent: boolean) {
  const system = await startSystem({ only: SERVICES, ...options })
  try {
    await t.test('a user named __proto__ with a booking changes nothing else', (t) =>
      prototypeNamedUser(t, system, persistent),
    )
    await t.test('NUL bytes: 400 saying so, and no breaker opens', (t) => nulBytes(t, system))
    for (const name of SERVICES) {
      t.equal((await fetch(`${system.url(name)}/readyz`)).status, 200, `${name} still up`)
      t.notMatch(system.output(name), /labelset|"level":50/, `${name} logged no error`)
    }
  } finally {
    // Before the database server goes away.
    await system.close()
  }
}

t.test('on PGlite', (t) => suite(t, {}, false))

t.test('on PostgreSQL', async (t) => {
  const postgres = await startPostgres()
  t.teardown(() => postgres.close())
  const serviceEnv = {
    users: { DATABASE_URL: await postgres.createDatabase('users') },
    bookings: { DATABASE_URL: await postgres.createDatabase('bookings') },
  }
  await suite(t, { serviceEnv }, true)
})
