// Granting and revoking the stored admin role (issue 18): by an administrator only, never the last
// one's, never a name ADMIN_USERNAMES lists; npm start's demo administrator is one.
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { bearer, DEMO_ADMIN, DEMO_ENV, signInTo } from '../../test/helpers/auth.js'
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
