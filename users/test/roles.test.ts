// Granting and revoking the stored admin role (issue 18): by an administrator only, never the last
// one's, never a name ADMIN_USERNAMES lists; npm start's demo administrator is one.
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { bearer, DEMO_ADMIN, DEMO_ENV, DEMO_PASSWORD, signInTo } from '../../test/helpers/auth.js'
import { build } from '../../test/helpers/servers.js'
import { usersService } from '../src/app.js'
import { BOOKINGS_URL, dataDir, roleIn, SQUATTER_PASSWORD, start } from './helpers/restarts.js'

t.test('production without a bootstrap password: an absent listed name stays reserved', async (t) => {
  const app = await build(t, usersService, { BOOKINGS_URL, DEMO_CREDENTIALS: 'false', ADMIN_USERNAMES: 'admin' })
  const refused = await app.inject({
    method: 'POST',
    url: '/users',
    payload: { id: 'admin', name: 'x', password: SQUATTER_PASSWORD },
  })
  t.equal(refused.statusCode, 409)
  t.match(refused.json(), { code: 'USER_ID_RESERVED' })
})

t.test('demo: npm start’s administrator is an admin; admins grant and revoke the role', async (t) => {
  const dir = dataDir(t)
  const env = { ...DEMO_ENV, ADMIN_USERNAMES: `${DEMO_ADMIN},ops` }
  const demo = await start(t, dir, env)
  const adminToken = await signInTo(demo, DEMO_ADMIN)
  t.equal(roleIn(adminToken), 'admin', 'the seeded administrator')
  const pamToken = await signInTo(demo, 'pam_beesly')
  t.equal(roleIn(pamToken), 'customer')
  const [admin, pam] = [bearer(adminToken), bearer(pamToken)]
  const setRole = (app: FastifyInstance, headers: Record<string, string>, username: string, role: string) =>
    app.inject({ method: 'PATCH', url: `/users/${username}`, headers, payload: { role } })

  const byCustomer = await setRole(demo, pam, 'pam_beesly', 'admin')
  t.equal(byCustomer.statusCode, 403, 'a customer cannot grant themselves the role')
  t.match(byCustomer.json(), { code: 'FORBIDDEN' })
  t.equal((await setRole(demo, admin, 'pam_beesly', 'root')).statusCode, 400, 'only customer or admin')

  const granted = await setRole(demo, admin, 'pam_beesly', 'admin')
  t.equal(granted.statusCode, 200)
  t.same(Object.keys(granted.json()), ['id', 'name', 'last_active'], 'the user as ever, without the role')
  t.equal(roleIn(await signInTo(demo, 'pam_beesly')), 'admin', 'her next token says admin')
  const listed = await setRole(demo, admin, DEMO_ADMIN, 'customer')
  t.equal(listed.statusCode, 409, 'a listed name keeps the role while listed')
  t.match(listed.json(), { code: 'ADMIN_LISTED' })
  t.equal((await setRole(demo, admin, 'pam_beesly', 'customer')).statusCode, 200)
  t.equal(roleIn(await signInTo(demo, 'pam_beesly')), 'customer', 'revoked')

  const created = await demo.inject({
    method: 'POST',
    url: '/users',
    headers: admin,
    payload: { id: 'ops', name: 'Operations', password: 'operations password' },
  })
  t.equal(created.statusCode, 201, 'an admin creates a listed name')
  t.equal(roleIn(await signInTo(demo, 'ops', 'operations password')), 'admin', 'as an administrator')
  await demo.close()

  // Out of the list, both keep their stored roles.
  const unlisted = await start(t, dir, { ...DEMO_ENV, ADMIN_USERNAMES: '' })
  const michaelToken = await signInTo(unlisted, DEMO_ADMIN)
  t.equal(roleIn(michaelToken), 'admin', 'kept after a restart')
  const michael = bearer(michaelToken)
  t.equal((await setRole(unlisted, michael, 'ops', 'customer')).statusCode, 200)
  const last = await setRole(unlisted, michael, DEMO_ADMIN, 'customer')
  t.equal(last.statusCode, 409, 'the last admin keeps the role')
  t.match(last.json(), { code: 'LAST_ADMIN' })
  t.equal(roleIn(await signInTo(unlisted, DEMO_ADMIN)), 'admin')
})

t.test('a revoked administrator’s tokens keep no power; the listed and the last admin cannot be deleted', async (t) => {
  // Found by the attack review: the token's role was believed for its whole hour, so a revoked
  // administrator could grant it back to themselves, or to an account of their own, for good.
  const dir = dataDir(t)
  const app = await start(t, dir, DEMO_ENV)
  const admin = bearer(await signInTo(app, DEMO_ADMIN))
  const patch = (headers: Record<string, string>, username: string, payload: Record<string, string>) =>
    app.inject({ method: 'PATCH', url: `/users/${username}`, headers, payload })
  t.equal((await patch(admin, 'pam_beesly', { role: 'admin' })).statusCode, 200)
  const pamAsAdmin = bearer(await signInTo(app, 'pam_beesly'))
  t.equal((await patch(admin, 'pam_beesly', { role: 'customer' })).statusCode, 200, 'revoked')

  for (const [what, username, payload] of [
    ['grant the role back', 'pam_beesly', { role: 'admin' }],
    ['rename someone else', 'jim_halpert', { name: 'Taken' }],
    ['set someone else’s password', 'jim_halpert', { password: 'a password of pam' }],
  ] as const) {
    const refused = await patch(pamAsAdmin, username, payload)
    t.equal(refused.statusCode, 403, `her admin token, issued before, cannot ${what}`)
    t.match(refused.json(), { code: 'FORBIDDEN', message: 'pam_beesly is no longer an administrator' })
  }
  const deleting = await app.inject({ method: 'DELETE', url: '/users/chris_rivers', headers: pamAsAdmin })
  t.equal(deleting.statusCode, 403, 'nor delete someone else')
  t.equal((await signInTo(app, 'jim_halpert')).length > 0, true, 'jim_halpert keeps his password')

  const listed = await app.inject({ method: 'DELETE', url: `/users/${DEMO_ADMIN}`, headers: admin, payload: {} })
  t.equal(listed.statusCode, 400, 'deleting oneself takes the password first')
  const own = { current_password: DEMO_PASSWORD }
  const listedWithPassword = await app.inject({
    method: 'DELETE',
    url: `/users/${DEMO_ADMIN}`,
    headers: admin,
    payload: own,
  })
  t.equal(listedWithPassword.statusCode, 409, 'the listed administrator cannot be deleted while listed')
  t.match(listedWithPassword.json(), { code: 'ADMIN_LISTED' })
  await app.close()

  // Out of the list, the only administrator left is still kept.
  const unlisted = await start(t, dir, { ...DEMO_ENV, ADMIN_USERNAMES: '' })
  const onlyAdmin = await unlisted.inject({
    method: 'DELETE',
    url: `/users/${DEMO_ADMIN}`,
    headers: bearer(await signInTo(unlisted, DEMO_ADMIN)),
    payload: own,
  })
  t.equal(onlyAdmin.statusCode, 409, 'the last administrator cannot be deleted')
  t.match(onlyAdmin.json(), { code: 'LAST_ADMIN' })
})
