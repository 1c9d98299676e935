// Issue 12's brute-force limit across replicas: two users service processes on one PostgreSQL
// database, the failed sign-ins of one username alternating between them. After 10 failures
// within 15 minutes, the 11th attempt gets 429 with Retry-After on either replica, the right
// password included, whatever address the client claims, for unknown usernames too; parallel
// guesses cannot slip past the limit; a success resets the count and so does the window's end.
import pg from 'pg'
import t, { type Test } from 'tap'
import { startPostgres } from '../helpers/postgres.js'
import { type RunningSystem, startSystem } from '../helpers/system.js'

t.setTimeout(150_000)

const LIMIT = 10
const WINDOW_SECONDS = 15 * 60

interface Attempt {
  status: number
  retryAfter: string | null
  body: { statusCode?: number; code?: string; message?: string; access_token?: string }
}

async function attempt(baseUrl: string, username: string, password: string, from?: string): Promise<Attempt> {
  const response = await fetch(`${baseUrl}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(from ? { 'x-forwarded-for': from } : {}) },
    body: JSON.stringify({ username, password }),
  })
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as Attempt['body'],
  }
}

function isThrottled(t: Test, answer: Attempt, where: string) {
  t.equal(answer.status, 429, `${where}: 429`)
  t.equal(answer.body.code, 'TOO_MANY_SIGN_INS', `${where}: code`)
  t.equal(answer.body.access_token, undefined, `${where}: no token`)
  const seconds = Number(answer.retryAfter)
  t.ok(
    /^\d+$/.test(answer.retryAfter ?? '') && seconds > 0 && seconds <= WINDOW_SECONDS,
    `${where}: Retry-After ${answer.retryAfter} is a whole number of seconds in 1…${WINDOW_SECONDS}`,
  )
}

t.test('two users replicas on one PostgreSQL database share the sign-in limit', async (t) => {
  const postgres = await startPostgres()
  const databaseUrl = await postgres.createDatabase('users')
  const replicas: RunningSystem[] = []
  t.teardown(async () => {
    await Promise.all(replicas.map((replica) => replica.close()))
    postgres.close()
  })
  // One after the other: the first makes the schema and the signing key.
  for (let index = 0; index < 2; index++) {
    replicas.push(await startSystem({ only: ['users'], serviceEnv: { users: { DATABASE_URL: databaseUrl } } }))
  }
  const urls = replicas.map((replica) => replica.url('users')) as [string, string]
  t.not(urls[0], urls[1], 'two processes')
  const replica = (index: number) => urls[index % 2] as string

  const signUp = async (username: string, password: string) => {
    const response = await fetch(`${urls[0]}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: username, name: username, password }),
    })
    t.equal(response.status, 201, `${username} signed up`)
  }

  await t.test('10 failures alternating between replicas, then 429 on either, right password or not', async (t) => {
    const password = 'victim-password-1'
    await signUp('victim', password)
    t.equal((await attempt(replica(1), 'victim', password)).status, 200, 'the password works on the other replica')
    for (let index = 0; index < LIMIT; index++) {
      // A different claimed client address (X-Forwarded-For) each time: the count is per username.
      const answer = await attempt(replica(index), 'victim', `wrong-${index}`, `203.0.113.${index}`)
      t.same(
        { status: answer.status, code: answer.body.code },
        { status: 401, code: 'BAD_CREDENTIALS' },
        `failure ${index + 1} on replica ${index % 2}`,
      )
    }
    isThrottled(t, await attempt(replica(0), 'victim', password), 'right password, replica 0')
    isThrottled(t, await attempt(replica(1), 'victim', password), 'right password, replica 1')
    isThrottled(t, await attempt(replica(1), 'victim', 'wrong-again', '198.51.100.7'), 'wrong password, replica 1')
    // Another user is not affected.
    t.equal((await attempt(replica(0), 'pam_beesly', 'cinema-demo')).status, 200, 'another user signs in')
  })

  await t.test('unknown usernames are counted the same way', async (t) => {
    for (let index = 0; index < LIMIT; index++) {
      const answer = await attempt(replica(index), 'no_such_user', `guess-${index}`)
      t.same(
        { status: answer.status, code: answer.body.code },
        { status: 401, code: 'BAD_CREDENTIALS' },
        `failure ${index + 1}`,
      )
    }
    isThrottled(t, await attempt(replica(0), 'no_such_user', 'guess-x'), 'unknown user, replica 0')
    isThrottled(t, await attempt(replica(1), 'no_such_user', 'guess-y'), 'unknown user, replica 1')
    // The 429 of an unknown user reads like that of a known one (nothing says which exists).
    const known = await attempt(replica(0), 'victim', 'whatever')
    const unknown = await attempt(replica(0), 'no_such_user', 'whatever')
    const alike = (answer: Attempt, username: string) => ({
      ...answer.body,
      message: answer.body.message?.replace(username, 'X').replace(/\d+ s$/, 'N s'),
    })
    t.same(alike(unknown, 'no_such_user'), alike(known, 'victim'), 'a known and an unknown user throttled alike')
  })

  await t.test('parallel guesses on both replicas cannot pass the limit', async (t) => {
    const password = 'racer-password-1'
    await signUp('racer', password)
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, index) => attempt(replica(index), 'racer', `wrong-${index}`)),
    )
    const statuses = answers.map((answer) => answer.status).sort()
    t.same(
      statuses,
      [...Array(LIMIT).fill(401), ...Array(16 - LIMIT).fill(429)],
      'exactly 10 checked, the rest refused unchecked',
    )
    isThrottled(t, await attempt(replica(0), 'racer', password), 'then the right password')
  })

  await t.test('a successful sign-in resets the count', async (t) => {
    const password = 'resetter-password-1'
    await signUp('resetter', password)
    // 9 failures, a success, then 10 more failures: without the reset, the 11th attempt would be refused.
    for (let round = 0; round < 2; round++) {
      for (let index = 0; index < LIMIT - 1; index++) {
        t.equal((await attempt(replica(index), 'resetter', `wrong-${round}-${index}`)).status, 401)
      }
      const success = await attempt(replica(round + 1), 'resetter', password)
      t.equal(success.status, 200, `round ${round + 1}: the 10th attempt, right, signs in`)
      t.ok(success.body.access_token, 'with a token')
    }
    for (let index = 0; index < LIMIT; index++) {
      t.equal(
        (await attempt(replica(index), 'resetter', `wrong-late-${index}`)).status,
        401,
        `late failure ${index + 1}`,
      )
    }
    isThrottled(t, await attempt(replica(1), 'resetter', password), 'the 11th since the last success')
  })

  await t.test('the window’s end lets the user in again', async (t) => {
    // The 15 minutes are shortened by moving every recorded attempt back in the shared database.
    const client = new pg.Client({ connectionString: databaseUrl })
    await client.connect()
    try {
      const { rowCount } = await client.query(
        `UPDATE sign_in_attempts SET attempted_at = ARRAY(SELECT at - make_interval(secs => $1) FROM unnest(attempted_at) AS at)
         WHERE username = 'victim'`,
        [WINDOW_SECONDS + 1],
      )
      t.equal(rowCount, 1, 'the count of victim is kept in the database')
    } finally {
      await client.end()
    }
    t.equal((await attempt(replica(1), 'victim', 'victim-password-1')).status, 200, 'signs in after the window')
    for (let index = 0; index < LIMIT; index++) {
      t.equal((await attempt(replica(index), 'victim', `wrong-${index}`)).status, 401, `a fresh count: ${index + 1}`)
    }
    isThrottled(t, await attempt(replica(0), 'victim', 'victim-password-1'), 'and the limit holds again')
  })

  for (const [index, running] of replicas.entries()) {
    t.notMatch(running.output('users'), /"level":50/, `replica ${index} logged no error`)
  }
})
