// Deleting one's own account takes the current password (issue 18): a stolen token alone does not
// delete it, straight at the users service or through the gateway, which forwards a DELETE's body.
import t from 'tap'
import { bearer, DEMO_ADMIN, DEMO_ENV, DEMO_PASSWORD, signInTo } from '../../test/helpers/auth.js'
import { build, deadUrl, json, listen, stub } from '../../test/helpers/servers.js'
import { SIGN_IN_ATTEMPTS } from '../../users/src/accounts.js'
import { usersService } from '../../users/src/app.js'
import { gatewayService } from '../src/app.js'

// Nobody has bookings: a deletion is decided by its credentials alone.
const bookings = await stub((_req, res) =>
  json(res, 404, { statusCode: 404, error: 'Not Found', message: 'no bookings', code: 'BOOKING_NOT_FOUND' }),
)
t.teardown(() => bookings.close())
const users = await build(t, usersService, { ...DEMO_ENV, BOOKINGS_URL: bookings.url })
const down = await deadUrl()
const gateway = await build(t, gatewayService, {
  USERS_URL: await listen(users),
  BOOKINGS_URL: bookings.url,
  MOVIES_URL: down,
  SHOWTIMES_URL: down,
})

const PASSWORD = 'toby own password'
const remove = (app: typeof users, username: string, token: string, payload?: object) =>
  app.inject({ method: 'DELETE', url: `/users/${username}`, headers: bearer(token), payload })

for (const [where, app] of [
  ['users', users],
  ['gateway', gateway],
] as const) {
  t.test(`${where}: one’s own account goes only with its password`, async (t) => {
    const username = `toby_${where}`
    const created = await app.inject({
      method: 'POST',
      url: '/users',
      payload: { id: username, name: 'Toby', password: PASSWORD },
    })
    t.equal(created.statusCode, 201)
    const token = await signInTo(users, username, PASSWORD)

    const bare = await remove(app, username, token)
    t.equal(bare.statusCode, 400, 'the token alone: 400')
    t.match(bare.json(), { code: 'VALIDATION_FAILED', message: /current_password/ })
    for (let attempt = 1; attempt <= SIGN_IN_ATTEMPTS; attempt++) {
      const wrong = await remove(app, username, token, { current_password: `guess ${attempt}` })
      t.equal(wrong.statusCode, 403, `guess ${attempt}: 403`)
      t.match(wrong.json(), { code: 'WRONG_PASSWORD' })
    }
    const counted = await app.inject({ method: 'POST', url: '/auth/token', payload: { username, password: PASSWORD } })
    t.equal(counted.statusCode, 429, 'the guesses counted as failed sign-ins')
    t.equal((await app.inject(`/users/${username}`)).statusCode, 200, 'still there')

    await users.db.query('DELETE FROM sign_in_attempts WHERE username = $1', [username])
    t.equal((await remove(app, username, token, { current_password: PASSWORD })).statusCode, 204)
    t.equal((await app.inject(`/users/${username}`)).statusCode, 404, 'gone')
  })

  t.test(`${where}: an admin deletes someone else without, their own with their password`, async (t) => {
    const admin = await signInTo(users, DEMO_ADMIN)
    const victim = where === 'users' ? 'pam_beesly' : 'jim_halpert'
    t.equal((await remove(app, victim, admin)).statusCode, 204, 'someone else: no body needed')
    t.equal((await app.inject(`/users/${victim}`)).statusCode, 404)
    const own = await remove(app, DEMO_ADMIN, admin)
    t.equal(own.statusCode, 400, 'their own: the token alone is not enough')
    t.equal((await remove(app, DEMO_ADMIN, admin, { current_password: 'not it at all' })).statusCode, 403)
    await users.db.query('DELETE FROM sign_in_attempts WHERE username = $1', [DEMO_ADMIN])
    t.equal((await app.inject(`/users/${DEMO_ADMIN}`)).statusCode, 200)
    t.equal(
      (await remove(app, 'dwight_schrute', admin, { current_password: DEMO_PASSWORD, extra: 1 })).statusCode,
      400,
      'unknown fields refused',
    )
  })
}
