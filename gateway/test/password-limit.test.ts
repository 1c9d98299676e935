// What makes the users service hash a password has a budget of its own per client, far below the
// general one: a client cannot queue up everybody's sign-ins.
import t from 'tap'
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
