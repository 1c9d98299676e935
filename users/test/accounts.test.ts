// Accounts against takeover: a deleted name is not handed on while its tokens live, one's own
// password changes only with the current one (admins too), and guessing that one counts.
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
    "UPDATE deleted_usernames SET deleted_at = now() - interval '61 minutes' WHERE username = 'hank_reuse'",
  )
  t.equal((await signUp('hank_reuse', 'second holder password')).statusCode, 201, 'free again after an hour')
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
