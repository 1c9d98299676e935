// Hashing that sheds load (issue 18): every request that makes the users service hash a password
// counts against the client's own budget here too (its port can be reached without the gateway),
// password changes included; X-Forwarded-For only from TRUST_PROXY; at most HASH_CONCURRENCY
// hashes at once, and a 503 at once beyond the queue; scrypt hashes rehashed as argon2id.
import { randomBytes, scryptSync } from 'node:crypto'
import t from 'tap'
import { bearer, DEMO_ENV, DEMO_PASSWORD, signInTo } from '../../test/helpers/auth.js'
import { build, deadUrl } from '../../test/helpers/servers.js'
import { usersService } from '../src/app.js'

const BUDGET = 3
const PROXY = '10.9.9.9'
const app = await build(t, usersService, {
  ...DEMO_ENV,
  BOOKINGS_URL: await deadUrl(),
  PASSWORD_RATE_LIMIT_MAX: String(BUDGET),
  // Only the test's own (inject's) address is exempt: the clients below are 10.x ones.
  RATE_LIMIT_ALLOW: '127.0.0.1',
  TRUST_PROXY: PROXY,
  // One hash at a time and no queue: a second hash asked for meanwhile is refused at once.
  HASH_CONCURRENCY: '1',
  HASH_QUEUE_MAX_WAIT_MS: '0',
})

/** cinema_password_hashes_total, from the service's own /metrics. */
async function hashesSoFar(): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
  return Number(/^cinema_password_hashes_total (\d+)$/m.exec(text)?.[1])
}

const signInFrom = (remoteAddress: string, username: string, password: string, headers = {}) =>
  app.inject({ method: 'POST', url: '/auth/token', remoteAddress, headers, payload: { username, password } })

t.test('with the budget spent, a password change is a 429 too, and hashes nothing', async (t) => {
  const client = '10.0.0.1'
  const token = await signInTo(app, 'dwight_schrute')
  for (let attempt = 0; attempt < BUDGET; attempt++) {
    t.equal((await signInFrom(client, 'dwight_schrute', 'not his password')).statusCode, 401, `try ${attempt + 1}`)
  }
  const refused = await signInFrom(client, 'dwight_schrute', DEMO_PASSWORD)
  t.equal(refused.statusCode, 429, 'the sign-in over budget')
  t.match(refused.json(), { code: 'RATE_LIMITED' })
  t.ok(Number(refused.headers['retry-after']) >= 1, 'with Retry-After')

  const before = await hashesSoFar()
  const change = (payload: object) =>
    app.inject({
      method: 'PATCH',
      url: '/users/dwight_schrute',
      remoteAddress: client,
      headers: bearer(token),
      payload,
    })
  for (let attempt = 0; attempt < 20; attempt++) {
    const answer = await change({ password: 'beets bears battlestar', current_password: DEMO_PASSWORD })
    if (answer.statusCode !== 429) t.fail(`password change ${attempt + 1}: ${answer.statusCode}`)
  }
  const deletion = await app.inject({
    method: 'DELETE',
    url: '/users/dwight_schrute',
    remoteAddress: client,
    headers: bearer(token),
    payload: { current_password: DEMO_PASSWORD },
  })
  t.equal(deletion.statusCode, 429, 'a deletion with the current password counts too')
  t.equal(await hashesSoFar(), before, '20 password changes and a deletion over budget: no hash')
  t.equal((await change({ name: 'Dwight K. Schrute' })).statusCode, 200, 'a rename hashes nothing: not counted')
  t.equal((await signInFrom('10.0.0.2', 'dwight_schrute', DEMO_PASSWORD)).statusCode, 200, 'another client')
})

t.test('X-Forwarded-For names the client only when TRUST_PROXY sent it', async (t) => {
  const spoofed = (index: number) => ({ 'x-forwarded-for': `10.1.0.${index}` })
  const direct = []
  for (let index = 0; index <= BUDGET; index++) {
    direct.push((await signInFrom('10.0.1.1', 'pam_beesly', 'wrong', spoofed(index))).statusCode)
  }
  t.same(direct, [401, 401, 401, 429], 'a client naming itself anew each time: one budget all the same')
  const proxied = []
  for (let index = 0; index <= BUDGET; index++) {
    proxied.push((await signInFrom(PROXY, 'angela_martin', 'wrong', spoofed(index))).statusCode)
  }
  t.same(proxied, [401, 401, 401, 401], 'through the trusted proxy: each client its own budget')
})

t.test('an IPv6 /64 is one client: new addresses in it share its budget', async (t) => {
  const answers = []
  for (let index = 0; index <= BUDGET; index++) {
    answers.push((await signInFrom(`2001:db8:1:2::${index + 1}`, 'oscar_martinez', 'wrong')).statusCode)
  }
  t.same(answers, [401, 401, 401, 429], 'a host trying from a fresh address of its /64 each time: one budget')
  t.equal((await signInFrom('2001:db8:1:3::1', 'oscar_martinez', 'wrong')).statusCode, 401, 'the next /64: its own')
})

t.test('hashes beyond the bound are refused at once: 503 OVERLOADED with Retry-After', async (t) => {
  // From the exempt address: this is the hashing bound, not the budget.
  const answers = await Promise.all(
    Array.from({ length: 8 }, () =>
      app.inject({ method: 'POST', url: '/auth/token', payload: { username: 'oscar_martinez', password: 'wrong' } }),
    ),
  )
  const codes = answers.map((answer) => answer.statusCode)
  t.ok(codes.includes(401), `one hashed: ${codes}`)
  const shed = answers.filter((answer) => answer.statusCode === 503)
  t.ok(shed.length >= 1, `the others shed: ${codes}`)
  for (const answer of shed) {
    t.match(answer.json(), { code: 'OVERLOADED', service: 'users' })
    t.ok(Number(answer.headers['retry-after']) >= 1, 'with Retry-After')
  }
})

t.test('a scrypt hash of an earlier version signs in, and is rehashed as argon2id', async (t) => {
  const salt = randomBytes(16)
  const key = scryptSync('an old scrypt password', salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 })
  const scrypt = `$scrypt$ln=15,r=8,p=1$${salt.toString('base64')}$${key.toString('base64')}`
  await app.db.query('UPDATE users SET password_hash = $2 WHERE id = $1', ['jim_halpert', scrypt])
  const storedHash = async () =>
    (await app.db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', ['jim_halpert']))[0]
      ?.password_hash

  t.equal((await signInFrom('127.0.0.1', 'jim_halpert', 'not it')).statusCode, 401, 'a wrong password')
  t.equal(await storedHash(), scrypt, 'a failed sign-in changes nothing')
  await signInTo(app, 'jim_halpert', 'an old scrypt password')
  t.match(await storedHash(), /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, 'argon2id after a good sign-in')
  await signInTo(app, 'jim_halpert', 'an old scrypt password')
  t.pass('and the same password signs in against it')
})
