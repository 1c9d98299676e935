// Cookie tossing: another origin of the same site (a Domain=<parent> cookie, or one for a longer
// path such as /api, which the browser sends first) adds a second session cookie. Whichever one
// the gateway believed, someone else would choose or spoil the session: two are refused, and
// every copy this host may clear is cleared.
import t, { type Test } from 'tap'
import { TestIssuer } from '../../test/helpers/auth.js'
import { build, json, type Stub, stub } from '../../test/helpers/servers.js'
import { gatewayService } from '../src/app.js'

const issuer = await TestIssuer.create()
const CSRF = { 'x-requested-with': 'cinema' }
const BOOKING = '/bookings/pam_beesly/20151130/267eedb8-0f5d-42d5-8f43-72426b9fb3e6'

/** Users (its keys, and a token for any sign-in) and the other services, each answering 200. */
async function gatewayWithStubs(t: Test, env: Record<string, string> = {}) {
  const users = await stub((req, res) => {
    if (TestIssuer.isJwksPath(req.url)) return json(res, 200, issuer.jwks)
    if (req.url === '/auth/token') {
      issuer.token('pam_beesly').then((token) => json(res, 200, { access_token: token, token_type: 'Bearer' }))
      return
    }
    json(res, 200, {})
  })
  const others = await stub((_req, res) => json(res, 200, {}))
  t.teardown(() => Promise.all([users.close(), others.close()]))
  const gateway = await build(t, gatewayService, {
    USERS_URL: users.url,
    MOVIES_URL: others.url,
    SHOWTIMES_URL: others.url,
    BOOKINGS_URL: others.url,
    ...env,
  })
  return { gateway, users, others }
}

const forwarded = (service: Stub, path: string) => service.requests.some((request) => request.url === path)
const setCookies = (headers: Record<string, unknown>) => [headers['set-cookie'] ?? []].flat() as string[]

t.test(
  'two session cookies are a 400 SESSION_CONFLICT wherever the session is read, whatever their order',
  async (t) => {
    const { gateway, users, others } = await gatewayWithStubs(t)
    const mine = await issuer.token('pam_beesly')
    const planted = await issuer.token('dwight_schrute')
    const pairs = {
      'hers, then a planted one': [mine, planted],
      'a planted one, then hers': [planted, mine],
      'junk, then hers': ['junk', mine],
      'the same one twice': [mine, mine],
    }
    const requests = [
      { method: 'GET', url: '/auth/session' },
      { method: 'POST', url: '/auth/session', payload: { username: 'pam_beesly', password: 'cinema-demo' } },
      { method: 'GET', url: '/users/pam_beesly' },
      { method: 'GET', url: '/bookings/pam_beesly' },
      { method: 'PUT', url: BOOKING },
      { method: 'DELETE', url: '/users/pam_beesly' },
    ] as const
    for (const [order, [first, second]] of Object.entries(pairs)) {
      for (const request of requests) {
        const answer = await gateway.inject({
          ...request,
          headers: { ...CSRF, cookie: `theme=dark; cinema_session=${first}; lang=en; cinema_session=${second}` },
        })
        const what = `${request.method} ${request.url}, ${order}`
        t.equal(answer.statusCode, 400, what)
        t.match(answer.json(), {
          statusCode: 400,
          code: 'SESSION_CONFLICT',
          message: /2 session cookies.*sign in again/,
        })
        t.ok(setCookies(answer.headers).includes('cinema_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict'), what)
      }
    }
    t.notOk(
      users.requests.some((request) => request.url !== '/.well-known/jwks.json') || others.requests.length > 0,
      'nothing was forwarded, no sign-in made',
    )

    // The session alone is read: one cookie, or a bearer token, goes on as before.
    const one = await gateway.inject({ url: '/auth/session', headers: { cookie: `cinema_session=${mine}` } })
    t.equal(one.statusCode, 200, 'one cookie is a session')
    const withBearer = await gateway.inject({
      url: '/bookings/pam_beesly',
      headers: { authorization: `Bearer ${mine}`, cookie: `cinema_session=${mine}; cinema_session=${planted}` },
    })
    t.equal(withBearer.statusCode, 200, 'an Authorization header is judged alone, as always')
    // Public data never reads the cookie: no session is chosen there, nothing to refuse.
    const movies = await gateway.inject({ url: '/movies', headers: { cookie: `cinema_session=a; cinema_session=b` } })
    t.equal(movies.statusCode, 200, 'public data is served, the cookies unread')
    t.ok(forwarded(others, '/movies'))
  },
)

t.test('the refusal clears each copy the browser may have sent: its paths behind /api, its domains', async (t) => {
  const { gateway } = await gatewayWithStubs(t)
  const answer = await gateway.inject({
    url: '/bookings/pam_beesly?x=1',
    headers: {
      host: 'www.cinema.example:5004',
      'x-forwarded-prefix': '/api',
      cookie: 'cinema_session=a; cinema_session=b',
    },
  })
  t.equal(answer.statusCode, 400)
  const cleared = setCookies(answer.headers).map((cookie) => {
    t.match(cookie, /^cinema_session=; .*Max-Age=0/, 'each clears')
    return [/Path=([^;]+)/.exec(cookie)?.[1], /Domain=([^;]+)/.exec(cookie)?.[1] ?? 'host-only'].join(' ')
  })
  const paths = ['/', '/api', '/api/', '/api/bookings', '/api/bookings/', '/api/bookings/pam_beesly']
  const expected = paths.flatMap((path) =>
    ['host-only', 'www.cinema.example', 'cinema.example'].map((domain) => `${path} ${domain}`),
  )
  t.same(cleared.toSorted(), expected.toSorted(), 'every path the cookie could have had, on this host and its parents')

  // An address has no parent domains; a path a cookie attribute cannot hold is not written into one.
  const byAddress = await gateway.inject({
    url: '/users/pam;Domain=evil.example',
    headers: { host: '192.0.2.1', cookie: 'cinema_session=a; cinema_session=b' },
  })
  t.equal(byAddress.statusCode, 400)
  t.same(setCookies(byAddress.headers), ['cinema_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict'])
})

t.test('signing out is never refused and clears the copies; signing in clears those planted before', async (t) => {
  const { gateway } = await gatewayWithStubs(t)
  const headers = { ...CSRF, host: 'www.cinema.example', 'x-forwarded-prefix': '/api' }
  const signOut = await gateway.inject({
    method: 'DELETE',
    url: '/auth/session',
    headers: { ...headers, cookie: 'cinema_session=a; cinema_session=b' },
  })
  t.equal(signOut.statusCode, 204, 'signing out with two cookies is how the web app gets out of it')
  const cleared = setCookies(signOut.headers)
  t.equal(cleared[0], 'cinema_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict', 'its own cookie first')
  t.ok(cleared.includes('cinema_session=; Path=/api; Max-Age=0; HttpOnly; SameSite=Strict'), 'the one for /api')
  t.ok(
    cleared.includes('cinema_session=; Path=/; Domain=cinema.example; Max-Age=0; HttpOnly; SameSite=Strict'),
    'the parent domain’s',
  )

  // Signed out, one planted cookie is no conflict yet; the new session would be sent beside it.
  const signIn = await gateway.inject({
    method: 'POST',
    url: '/auth/session',
    headers: { ...headers, cookie: 'cinema_session=planted' },
    payload: { username: 'pam_beesly', password: 'cinema-demo' },
  })
  t.equal(signIn.statusCode, 200)
  const cookies = setCookies(signIn.headers)
  t.match(cookies.at(-1), /^cinema_session=[\w-]+\.[\w-]+\.[\w-]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/)
  t.ok(cookies.slice(0, -1).length > 0, 'other copies cleared before it')
  t.ok(
    cookies
      .slice(0, -1)
      .every((cookie) => /^cinema_session=; /.test(cookie) && !/^[^;]+; Path=\/; Max-Age/.test(cookie)),
    'never its own (host-only, Path=/), which the last header sets',
  )
})

t.test('over HTTPS the session is the __Host- cookie, which no other origin can plant', async (t) => {
  const { gateway } = await gatewayWithStubs(t, { TRUST_PROXY: '127.0.0.1' })
  const https = { ...CSRF, 'x-forwarded-proto': 'https', host: 'www.cinema.example' }
  const signIn = await gateway.inject({
    method: 'POST',
    url: '/auth/session',
    headers: https,
    payload: { username: 'pam_beesly', password: 'cinema-demo' },
  })
  t.equal(signIn.statusCode, 200)
  const [cookie] = setCookies(signIn.headers)
  t.match(
    cookie,
    /^__Host-cinema_session=[\w-]+\.[\w-]+\.[\w-]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict; Secure$/,
  )
  const token = /=([^;]+)/.exec(cookie ?? '')?.[1]
  const planted = await issuer.token('dwight_schrute')

  const session = await gateway.inject({
    url: '/auth/session',
    headers: { ...https, cookie: `cinema_session=${planted}; __Host-cinema_session=${token}` },
  })
  t.equal(session.statusCode, 200, 'a plain cinema_session cookie is not read over HTTPS')
  t.equal(session.json().username, 'pam_beesly')
  const alone = await gateway.inject({
    url: '/auth/session',
    headers: { ...https, cookie: `cinema_session=${planted}` },
  })
  t.equal(alone.statusCode, 401, 'not even alone')

  const two = await gateway.inject({
    url: '/auth/session',
    headers: { ...https, cookie: `__Host-cinema_session=${token}; __Host-cinema_session=${token}` },
  })
  t.equal(two.statusCode, 400)
  t.same(
    setCookies(two.headers),
    ['__Host-cinema_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure'],
    'the only copy a __Host- cookie can have',
  )
})
