// Production (issue 18): the bootstrap creates the administrator with the role stored, which a
// restart keeps; an account from before stored roles is refused until granted as the README says.
import t from 'tap'
import { bearer, signInTo } from '../../test/helpers/auth.js'
import { BOOTSTRAP_PASSWORD, dataDir, PRODUCTION, roleIn, start } from './helpers/restarts.js'

t.test('production: the bootstrap creates the admin, stored; a restart keeps it', async (t) => {
  const dir = dataDir(t)
  const first = await start(t, dir, PRODUCTION)
  const token = await signInTo(first, 'admin', BOOTSTRAP_PASSWORD)
  t.equal(roleIn(token), 'admin')
  t.same(Object.keys((await first.inject('/users/admin')).json()), ['id', 'name', 'last_active'], 'no role in the user')
  const changed = await first.inject({
    method: 'PATCH',
    url: '/users/admin',
    headers: bearer(token),
    payload: { password: 'the operator own password', current_password: BOOTSTRAP_PASSWORD },
  })
  t.equal(changed.statusCode, 200)
  await first.close()

  const second = await start(t, dir, PRODUCTION)
  t.equal(
    roleIn(await signInTo(second, 'admin', 'the operator own password')),
    'admin',
    'still an admin after a restart',
  )
  // As after an upgrade from before stored roles: the migration made every account a customer.
  await second.db.query("UPDATE users SET role = 'customer' WHERE id = 'admin'")
  await second.close()
  await t.rejects(
    start(t, dir, PRODUCTION),
    /ADMIN_USERNAMES lists admin/,
    'an upgraded admin is refused until granted',
  )
  const fixing = await start(t, dir, { DEMO_CREDENTIALS: 'false' })
  await fixing.db.query("UPDATE users SET role = 'admin' WHERE id = 'admin'")
  await fixing.close()
  const fixed = await start(t, dir, PRODUCTION)
  t.equal(roleIn(await signInTo(fixed, 'admin', 'the operator own password')), 'admin', 'the documented grant fixes it')
})
