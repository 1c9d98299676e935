// What makes the users service hash a password has a budget of its own per client, far below the
// general one: a client cannot queue up everybody's sign-ins.
import t from 'tap'
import { bearer, TestIssuer } from '../../test/helpers/auth.js'
import { build, json, stub } from '../../test/helpers/servers.js'
import { gatewayService } from '../src/app.js'

t.test('sign-ins and sign-ups: PASSWORD_RATE_LIMIT_MAX per client, then 429 with Retry-After', async (t) => {
  // Sign-ins fail, sign-ups succeed, reads answer.
  const users = await stub((req, res) => {
    if (req.url === '/auth/token') {
      json(res, 401, { statusCode: 401, error: 'Unauthorized', message: 'no', code: 'BAD_CREDENTIALS' })
    } else json(res, req.method === 'POST' ? 201 : 200, {})
  })
  t.teardown(() => users.close())
  const gateway = await build(t, gatewayService, {
    USERS_URL: users.url,
    PASSWORD_RATE_LIMIT_MAX: '3',
    RATE_LIMIT_ALLOW: '',
  })
  const post = (url: string, remoteAddress: string) =>
    gateway.inject({
      method: 'POST',
      url,
      remoteAddress,
      headers: { 'x-requested-with': 'cinema' },
      payload: { username: 'dwight_schrute', password: 'not this one' },
    })

  const statuses = []
  for (const url of ['/auth/token', '/auth/session', '/users', '/auth/token']) {
    statuses.push((await post(url, '198.51.100.7')).statusCode)
  }
  t.same(statuses.slice(0, 3), [401, 401, 201], 'three password routes share one budget')
  t.equal(statuses[3], 429, 'the fourth is refused')
  const refused = await post('/auth/token', '198.51.100.7')
  t.match(refused.json(), { statusCode: 429, code: 'RATE_LIMITED', message: /sign-ins and sign-ups/ })
  t.match(refused.headers['retry-after'], /^\d+$/)
  t.equal(users.requests.filter((request) => request.url === '/auth/token').length, 2, 'refused ones never reach users')

  t.equal((await post('/auth/token', '198.51.100.8')).statusCode, 401, 'another client has its own budget')
  t.equal(
    (await gateway.inject({ url: '/users', remoteAddress: '198.51.100.7' })).statusCode,
    200,
    'reads are not counted',
  )
})

t.test('an IPv6 /64 is one client; the allow-list exempts its addresses, not their /64', async (t) => {
  const users = await stub((_req, res) => json(res, 401, { statusCode: 401, error: 'Unauthorized', message: 'no' }))
  t.teardown(() => users.close())
  const gateway = await build(t, gatewayService, {
    USERS_URL: users.url,
    PASSWORD_RATE_LIMIT_MAX: '2',
    RATE_LIMIT_ALLOW: '::1,2001:db8:9::7',
  })
  const signIn = (remoteAddress: string) =>
    gateway.inject({
      method: 'POST',
      url: '/auth/token',
      remoteAddress,
      headers: { 'x-requested-with': 'cinema' },
      payload: { username: 'dwight_schrute', password: 'not this one' },
    })
  const statuses = async (addresses: string[]) => {
    const answers = []
    for (const address of addresses) answers.push((await signIn(address)).statusCode)
    return answers
  }
  t.same(
    await statuses(['2001:db8:5::1', '2001:db8:5::2', '2001:db8:5:0:ffff::3']),
    [401, 401, 429],
    'three addresses of one /64: one budget of two',
  )
  t.same(await statuses(['2001:db8:6::1']), [401], 'another /64: its own budget')
  t.same(
    await statuses(['::1', '::1', '::1', '2001:db8:9::7', '2001:db8:9::7', '2001:db8:9::7']),
    [401, 401, 401, 401, 401, 401],
    'allow-listed addresses: never counted',
  )
  t.same(await statuses(['2001:db8:9::8', '2001:db8:9::9', '2001:db8:9::a']), [401, 401, 429], 'their neighbours are')
})

t.test('with the budget spent, a change or deletion carrying a password is a 429 too (issue 18)', async (t) => {
  const issuer = await TestIssuer.create()
  const users = await stub((req, res) => {
    if (TestIssuer.isJwksPath(req.url)) return json(res, 200, issuer.jwks)
    if (req.url === '/auth/token') {
      return json(res, 401, { statusCode: 401, error: 'Unauthorized', message: 'no', code: 'BAD_CREDENTIALS' })
    }
    json(res, 200, {})
  })
  t.teardown(() => users.close())
  const gateway = await build(t, gatewayService, {
    USERS_URL: users.url,
    PASSWORD_RATE_LIMIT_MAX: '2',
    RATE_LIMIT_ALLOW: '',
  })
  const client = '198.51.100.20'
  const headers = bearer(await issuer.token('dwight_schrute'))
  const send = (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload: object) =>
    gateway.inject({ method, url, remoteAddress: client, headers, payload })
  const forwardedChanges = () => users.requests.filter((request) => request.url.startsWith('/users/')).length

  t.equal(
    (await send('PATCH', '/users/dwight_schrute', { password: 'a new password', current_password: 'old one' }))
      .statusCode,
    200,
    'a password change counts',
  )
  t.equal((await send('POST', '/auth/token', { username: 'dwight_schrute', password: 'guess' })).statusCode, 401)
  t.equal(
    (await send('POST', '/auth/token', { username: 'dwight_schrute', password: 'guess' })).statusCode,
    429,
    'spent',
  )
  const before = forwardedChanges()
  for (let attempt = 0; attempt < 20; attempt++) {
    const answer = await send('PATCH', '/users/dwight_schrute', {
      password: 'a new password',
      current_password: 'guess',
    })
    if (answer.statusCode !== 429) t.fail(`password change ${attempt + 1}: ${answer.statusCode}`)
  }
  const deletion = await send('DELETE', '/users/dwight_schrute', { current_password: 'guess' })
  t.equal(deletion.statusCode, 429, 'a deletion with the current password')
  t.match(deletion.json(), { code: 'RATE_LIMITED' })
  t.match(deletion.headers['retry-after'], /^\d+$/)
  t.equal(forwardedChanges(), before, 'none of them reached the users service')
  t.equal((await send('PATCH', '/users/dwight_schrute', { name: 'Dwight' })).statusCode, 200, 'a rename is not counted')
})

t.test('the web sign-in tells the users service who the client is (its own budget keys by it)', async (t) => {
  const users = await stub((_req, res) =>
    json(res, 401, { statusCode: 401, error: 'Unauthorized', message: 'no', code: 'BAD_CREDENTIALS' }),
  )
  t.teardown(() => users.close())
  const gateway = await build(t, gatewayService, { USERS_URL: users.url })
  await gateway.inject({
    method: 'POST',
    url: '/auth/session',
    remoteAddress: '198.51.100.30',
    headers: { 'x-requested-with': 'cinema' },
    payload: { username: 'dwight_schrute', password: 'not this one' },
  })
  t.equal(users.requests.at(-1)?.headers['x-forwarded-for'], '198.51.100.30')
})

t.test(
  'POST /auth/session passes on the users service’s refusals as it said them, a 429 with its Retry-After',
  async (t) => {
    // The first sign-in is refused as locked; the second gets an answer that makes no sense.
    let calls = 0
    const users = await stub((_req, res) => {
      if (++calls === 1) {
        res.setHeader('retry-after', '612')
        json(res, 429, { statusCode: 429, error: 'Too Many Requests', message: 'too many', code: 'TOO_MANY_SIGN_INS' })
      } else json(res, 418, { not: 'an error body' })
    })
    t.teardown(() => users.close())
    const gateway = await build(t, gatewayService, { USERS_URL: users.url })
    const session = () =>
      gateway.inject({
        method: 'POST',
        url: '/auth/session',
        headers: { 'x-requested-with': 'cinema' },
        payload: { username: 'dwight_schrute', password: 'whatever it is' },
      })
    const locked = await session()
    t.equal(locked.statusCode, 429)
    t.equal(locked.headers['retry-after'], '612')
    t.same(locked.json(), {
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'too many',
      code: 'TOO_MANY_SIGN_INS',
    })
    t.notOk(locked.headers['set-cookie'], 'no session')
    const odd = await session()
    t.equal(odd.statusCode, 502, 'an answer that is neither a token nor a refusal is a bad answer')
    t.match(odd.json(), { code: 'PEER_BAD_ANSWER', service: 'users' })
  },
)

t.test('the budget goes by the route, however the path is spelt', async (t) => {
  const users = await stub((_req, res) =>
    json(res, 401, { statusCode: 401, error: 'Unauthorized', message: 'no', code: 'BAD_CREDENTIALS' }),
  )
  t.teardown(() => users.close())
  const gateway = await build(t, gatewayService, {
    USERS_URL: users.url,
    PASSWORD_RATE_LIMIT_MAX: '2',
    RATE_LIMIT_ALLOW: '',
  })
  const statuses = []
  for (const url of ['/auth/%74oken', '/%75sers', '/auth/%73ession', '/auth/token?x=1']) {
    const response = await gateway.inject({
      method: 'POST',
      url,
      remoteAddress: '198.51.100.20',
      headers: { 'x-requested-with': 'cinema' },
      payload: { username: 'dwight_schrute', password: 'not this one' },
    })
    statuses.push(response.statusCode)
  }
  t.same(statuses, [401, 401, 429, 429], 'encoded paths spend the same budget')
})
