// Accounts against takeover: a deleted name is not handed on while its tokens live, one's own
// password changes only with the current one (admins too), and guessing that one counts.
import { decodeJwt } from 'jose'
import t from 'tap'
import { bearer, DEMO_ADMIN, DEMO_ENV, DEMO_PASSWORD, signInTo } from '../../test/helpers/auth.js'
import { build, deadUrl } from '../../test/helpers/servers.js'
import { usersService } from '../src/app.js'

const app = await build(t, usersService, { ...DEMO_ENV, BOOKINGS_URL: await deadUrl() })

const signUp = (id: string, password: string) =>
  app.inject({ method: 'POST', url: '/users', payload: { id, name: id, password } })

t.test('a deleted username is not signed up again while a token of its old holder may live', async (t) => {
  t.equal((await signUp('hank_reuse', 'first holder password')).statusCode, 201)
  const oldToken = await signInTo(app, 'hank_reuse', 'first holder password')
  // Its bookings are asked of the bookings service first; it is down here, so delete from the table.
  await app.db.query(
    `WITH gone AS (DELETE FROM users WHERE id = 'hank_reuse' RETURNING id)
     INSERT INTO deleted_usernames (username) SELECT id FROM gone`,
  )
  const again = await signUp('hank_reuse', 'second holder password')
  t.equal(again.statusCode, 409, 'the name is held')
  t.match(again.json(), { code: 'USER_EXISTS' })
  const renamed = await app.inject({
    method: 'PATCH',
    url: '/users/hank_reuse',
    headers: bearer(oldToken),
    payload: { name: 'Taken over' },
  })
  t.equal(renamed.statusCode, 404, 'the old token finds no account to act on')

  await app.db.query(
    "UPDATE deleted_usernames SET deleted_at = now() - interval '64 minutes' WHERE username = 'hank_reuse'",
  )
  t.equal((await signUp('hank_reuse', 'second holder password')).statusCode, 409, 'still held just after the hour')
  await app.db.query(
    "UPDATE deleted_usernames SET deleted_at = now() - interval '66 minutes' WHERE username = 'hank_reuse'",
  )
  t.equal(
    (await signUp('hank_reuse', 'second holder password')).statusCode,
    201,
    'free again after an hour and five minutes',
  )
})

t.test('changing one’s own password takes the current one, an admin’s own included', async (t) => {
  const admin = await signInTo(app, DEMO_ADMIN)
  const change = (token: string, username: string, payload: object) =>
    app.inject({ method: 'PATCH', url: `/users/${username}`, headers: bearer(token), payload })

  const own = await change(admin, DEMO_ADMIN, { password: 'a new admin password' })
  t.equal(own.statusCode, 400, 'an admin’s own: the current password is needed')
  t.match(own.json(), { message: /current_password/ })
  t.equal(
    (await change(admin, DEMO_ADMIN, { password: 'a new admin password', current_password: DEMO_PASSWORD })).statusCode,
    200,
  )
  t.equal(
    (await change(admin, 'jim_halpert', { password: 'jim is reset now' })).statusCode,
    200,
    'someone else’s: an admin needs no current password',
  )
  t.equal((await signInTo(app, 'jim_halpert', 'jim is reset now')).length > 0, true)
})

t.test('wrong current passwords count as failed sign-ins: the eleventh try is a 429', async (t) => {
  t.equal((await signUp('kelly_kapoor', 'kelly first password')).statusCode, 201)
  const token = await signInTo(app, 'kelly_kapoor', 'kelly first password')
  const guess = (current: string) =>
    app.inject({
      method: 'PATCH',
      url: '/users/kelly_kapoor',
      headers: bearer(token),
      payload: { password: 'kelly next password', current_password: current },
    })
  for (let attempt = 1; attempt <= 10; attempt++) {
    t.equal((await guess(`guess ${attempt}`)).statusCode, 403, `guess ${attempt}: wrong`)
  }
  const eleventh = await guess('kelly first password')
  t.equal(eleventh.statusCode, 429, 'even the right one, once ten have failed')
  t.match(eleventh.json(), { code: 'TOO_MANY_SIGN_INS' })
  t.match(eleventh.headers['retry-after'], /^\d+$/)
})

t.test('a password of white space only is refused', async (t) => {
  const blank = await signUp('creed_blank', ' '.repeat(12))
  t.equal(blank.statusCode, 400)
  t.match(blank.json(), { message: 'body/password must not be only white space' })
})

t.test('the limit holds over any 15 minutes: no fresh allowance at a window boundary', async (t) => {
  t.equal((await signUp('oscar_martinez', 'oscar real password')).statusCode, 201)
  const wrong = () =>
    app.inject({ method: 'POST', url: '/auth/token', payload: { username: 'oscar_martinez', password: 'a guess' } })
  const age = (seconds: number) =>
    app.db.query(
      `UPDATE sign_in_attempts SET attempted_at = ARRAY(SELECT at - make_interval(secs => $1) FROM unnest(attempted_at) AS at)
       WHERE username = 'oscar_martinez'`,
      [seconds],
    )
  t.equal((await wrong()).statusCode, 401, 'one failure')
  await age(14 * 60 + 50)
  for (let attempt = 2; attempt <= 10; attempt++) t.equal((await wrong()).statusCode, 401, `failure ${attempt}`)
  // 15 s on, the first has left the last 15 minutes (a window counted from it would start afresh).
  await age(15)
  t.equal((await wrong()).statusCode, 401, 'nine in the last 15 minutes, and this one: ten')
  const over = await wrong()
  t.equal(over.statusCode, 429, 'the eleventh within 15 minutes is refused')
  const retryAfter = Number(over.headers['retry-after'])
  t.ok(retryAfter > 14 * 60 && retryAfter <= 15 * 60, `until the second oldest leaves the window (${retryAfter} s)`)
})

t.test('a token lives exactly expires_in seconds, even when its second ends while it is made', async (t) => {
  // Every reading of the clock (Date.now() or new Date()) a second after the one before: iat and
  // exp read separately would differ by a second more than the lifetime.
  const RealDate = Date
  let reading = RealDate.now()
  const nextReading = () => {
    reading += 1_000
    return reading
  }
  class SteppingDate extends RealDate {
    constructor(...args: ConstructorParameters<DateConstructor> | []) {
      if (args.length === 0) super(nextReading())
      else super(...(args as ConstructorParameters<DateConstructor>))
    }
    static override now = nextReading
  }
  globalThis.Date = SteppingDate as DateConstructor
  let answer: Awaited<ReturnType<typeof app.inject>>
  try {
    answer = await app.inject({
      method: 'POST',
      url: '/auth/token',
      payload: { username: 'pam_beesly', password: DEMO_PASSWORD },
    })
  } finally {
    globalThis.Date = RealDate
  }
  t.equal(answer.statusCode, 200)
  const { access_token: token, expires_in: expiresIn } = answer.json()
  const claims = decodeJwt(token)
  t.equal((claims.exp ?? 0) - (claims.iat ?? 0), expiresIn, `exp - iat = expires_in (${expiresIn} s)`)
})
