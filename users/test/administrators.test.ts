// The admin role is stored with the account (issue 18): granted by the bootstrap when it creates
// the account, in demo mode to the seeded administrator, or by an administrator; a name in
// ADMIN_USERNAMES alone grants nothing. Services restart on the same data directory.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { bearer, DEMO_ENV, signInTo } from '../../test/helpers/auth.js'
import { uninstrumented } from '../../test/helpers/processes.js'
import {
  BOOKINGS_URL,
  BOOTSTRAP_PASSWORD,
  dataDir,
  PRODUCTION,
  roleIn,
  SQUATTER_PASSWORD,
  start,
} from './helpers/restarts.js'

/** Starts the compiled service with `env` while its port is held: its exit code and stderr. */
async function startProcess(t: Test, env: Record<string, string>) {
  const blocker = createServer().listen(0, '127.0.0.1')
  await once(blocker, 'listening')
  t.teardown(() => blocker.close())
  // A start that is not refused ends at the held port instead of listening on.
  const port = String((blocker.address() as AddressInfo).port)
  const entry = fileURLToPath(new URL('../dist/server.js', import.meta.url))
  const child = spawn(...uninstrumented(process.execPath, [entry]), {
    env: { ...process.env, LOG_LEVEL: 'silent', HOST: '127.0.0.1', PORT: port, BOOKINGS_URL, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const [code] = await once(child, 'exit')
  return { code, stderr }
}

t.test('a name signed up in demo mode and listed later is refused at start, never made an admin', async (t) => {
  const dir = dataDir(t)
  const demo = await start(t, dir, DEMO_ENV)
  const signedUp = await demo.inject({
    method: 'POST',
    url: '/users',
    payload: { id: 'admin', name: 'Not the operator', password: SQUATTER_PASSWORD },
  })
  t.equal(signedUp.statusCode, 201, 'in demo mode anyone signs up as admin')
  t.equal(roleIn(await signInTo(demo, 'admin', SQUATTER_PASSWORD)), 'customer')
  await demo.close()

  await t.rejects(
    start(t, dir, PRODUCTION),
    /ADMIN_USERNAMES lists admin, but that account is not an administrator.*UPDATE users SET role = 'admin' WHERE id = 'admin'/,
    'the production settings do not start on a squatted name',
  )
  const { code, stderr } = await startProcess(t, { ...PRODUCTION, DATA_DIR: dir })
  t.equal(code, 1, 'the process exits 1')
  t.match(stderr, /^users: failed to start: ADMIN_USERNAMES lists admin, but that account is not an administrator/)
  t.equal(stderr.trim().split('\n').length, 1, 'in one line')

  // Unlisted again, the squatter's password still signs in, to a customer's token.
  const after = await start(t, dir, { DEMO_CREDENTIALS: 'false' })
  const token = await signInTo(after, 'admin', SQUATTER_PASSWORD)
  t.equal(roleIn(token), 'customer', 'the squatter’s token never says admin')
  const takeover = await after.inject({
    method: 'PATCH',
    url: '/users/pam_beesly',
    headers: bearer(token),
    payload: { password: 'pam is taken over' },
  })
  t.equal(takeover.statusCode, 403, 'and sets no one else’s password')
  t.equal(
    (
      await after.inject({
        method: 'POST',
        url: '/auth/token',
        payload: { username: 'admin', password: BOOTSTRAP_PASSWORD },
      })
    ).statusCode,
    401,
  )
})

t.test('a listed name no account can have stops the start, naming it', async (t) => {
  // Found by the attack review: `Admin` reserved no name anyone can sign up with.
  await t.rejects(
    start(t, dataDir(t), { ...PRODUCTION, ADMIN_USERNAMES: 'Admin,ops' }),
    /ADMIN_USERNAMES lists Admin, which no account can be named/,
  )
})
