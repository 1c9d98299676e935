import { get as httpGet, type IncomingHttpHeaders } from 'node:http'
import t, { type Test } from 'tap'
import { moviesService } from '../../movies/src/app.js'
import { bearer, DEMO_ENV, signIn, TestIssuer } from '../../test/helpers/auth.js'
import { build, deadUrl, json, listen, parseRawResponse, rawConnection, stub } from '../../test/helpers/servers.js'
import { usersService } from '../../users/src/app.js'
import { gatewayService } from '../src/app.js'

const CREED = '267eedb8-0f5d-42d5-8f43-72426b9fb3e6'

// Signs the tokens of these tests; the users stand-ins publish its key.
const issuer = await TestIssuer.create()

/** An upstream that answers with what it received; as users, it publishes `keys`' JWKS too. */
const echo = (keys?: TestIssuer) =>
  stub((req, res) => {
    if (keys && TestIssuer.isJwksPath(req.url)) return json(res, 200, keys.jwks)
    let body = ''
    req.on('data', (chunk) => {
      body += chunk
    })
    req.on('end', () => json(res, 200, { method: req.method, url: req.url, headers: req.headers, body }))
  })

async function gateway(t: Test, env: Record<string, string>) {
  return build(t, gatewayService, env)
}

t.test('forwards each prefix and everything below it, path, query, method and body unchanged', async (t) => {
  const upstreams = {
    users: await echo(issuer),
    movies: await echo(),
    showtimes: await echo(),
    bookings: await echo(),
  }
  t.teardown(() => Promise.all(Object.values(upstreams).map((upstream) => upstream.close())))
  const app = await gateway(t, {
    USERS_URL: upstreams.users.url,
    MOVIES_URL: upstreams.movies.url,
    SHOWTIMES_URL: upstreams.showtimes.url,
    BOOKINGS_URL: upstreams.bookings.url,
  })

  for (const [name, path] of [
    ['movies', '/movies'],
    ['movies', `/movies/${CREED}`],
    ['showtimes', '/showtimes/20151201?debug=1'],
    ['bookings', '/bookings/dwight_schrute'],
    ['users', '/users/dwight_schrute/suggested?limit=2&x=a%20b'],
    ['users', '/auth/token?x=1'],
  ] as const) {
    const response = await app.inject(path)
    t.equal(response.statusCode, 200, path)
    t.equal(response.json().url, path, `${path} reaches ${name} unchanged`)
    t.equal(upstreams[name].requests.at(-1)?.url, path)
  }

  const put = await app.inject({
    method: 'PUT',
    url: `/bookings/dwight_schrute/20151201/${CREED}`,
    headers: bearer(await issuer.token('dwight_schrute')),
    payload: { note: 'kept' },
  })
  t.same(
    { method: put.json().method, body: put.json().body },
    { method: 'PUT', body: '{"note":"kept"}' },
    'method and body forwarded',
  )
})

t.test('forwarded headers: request id, X-Forwarded-*, no hop-by-hop', async (t) => {
  const movies = await echo()
  t.teardown(() => movies.close())
  const app = await gateway(t, { MOVIES_URL: movies.url })
  const url = await listen(app)

  // node:http, since fetch refuses to send a Connection header.
  const response = await new Promise<{ headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const request = httpGet(
      `${url}/movies`,
      {
        headers: {
          'x-request-id': 'req-42',
          connection: 'keep-alive, x-private-hop',
          'x-private-hop': 'secret',
          'proxy-authorization': 'Basic abc',
          'x-forwarded-for': '203.0.113.9',
        },
      },
      (res) => {
        let body = ''
        res.on('data', (chunk) => {
          body += chunk
        })
        res.on('end', () => resolve({ headers: res.headers, body }))
      },
    )
    request.on('error', reject)
  })
  const seen = (JSON.parse(response.body) as { headers: Record<string, string> }).headers
  t.equal(response.headers['x-request-id'], 'req-42', 'echoed to the client')
  t.equal(seen['x-request-id'], 'req-42', 'sent upstream')
  t.equal(seen['x-forwarded-for'], '203.0.113.9, 127.0.0.1', 'client address appended')
  t.equal(seen['x-forwarded-proto'], 'http')
  t.equal(seen['x-forwarded-host'], new URL(url).host)
  t.notOk(seen['x-private-hop'], 'headers named in Connection are dropped')
  t.notOk(seen['proxy-authorization'], 'hop-by-hop headers are dropped')

  const generated = await fetch(`${url}/movies`)
  const generatedId = generated.headers.get('x-request-id')
  t.match(generatedId, /^[0-9a-f-]{36}$/, 'a request id is made when none is sent')
  t.equal(((await generated.json()) as { headers: Record<string, string> }).headers['x-request-id'], generatedId)
})

t.test('in front of the real movies service: the same bodies as straight', async (t) => {
  const moviesUrl = await listen(await build(t, moviesService))
  const app = await gateway(t, { MOVIES_URL: moviesUrl })
  for (const path of ['/movies', `/movies/${CREED}`, '/movies/b18f']) {
    const through = await app.inject(path)
    const straight = await fetch(`${moviesUrl}${path}`)
    t.equal(through.statusCode, straight.status, path)
    t.equal(through.body, await straight.text(), path)
  }
})

t.test('an unreachable service is a 503 JSON naming it; a slow one a 504; unknown paths a JSON 404', async (t) => {
  const neverAnswers = await stub(() => {})
  t.teardown(() => neverAnswers.close())
  const app = await gateway(t, { MOVIES_URL: await deadUrl(), USERS_URL: neverAnswers.url, UPSTREAM_TIMEOUT_MS: '300' })

  const down = await app.inject('/movies')
  t.equal(down.statusCode, 503)
  t.match(down.headers['content-type'], /application\/json/)
  t.same(down.json(), {
    statusCode: 503,
    error: 'Service Unavailable',
    message: 'movies service is unavailable',
    code: 'PEER_UNAVAILABLE',
    service: 'movies',
  })

  const started = Date.now()
  const slow = await app.inject('/users/dwight_schrute')
  t.equal(slow.statusCode, 504)
  t.same(slow.json(), {
    statusCode: 504,
    error: 'Gateway Timeout',
    message: 'users service did not answer within 300 ms',
    code: 'PEER_TIMEOUT',
    service: 'users',
  })
  t.ok(Date.now() - started < 2_500, 'bounded wait') // undici's timeouts fire on a 499 ms tick: up to a second late

  for (const path of ['/nope', '/moviesx', '/api/movies']) {
    const missing = await app.inject(path)
    t.equal(missing.statusCode, 404, path)
    t.same(missing.json(), {
      statusCode: 404,
      error: 'Not Found',
      message: `no route for GET ${path}`,
      code: 'NOT_FOUND',
    })
  }

  const metrics = (await app.metricsServer?.inject('/metrics'))?.body
  t.match(metrics, /peer_request_duration_seconds_count\{peer="movies",method="GET",outcome="unavailable"\} 1/)
  t.match(metrics, /peer_request_duration_seconds_count\{peer="users",method="GET",outcome="timeout"\} 1/)
})

t.test('a service’s 503 passes through at once, never retried', async (t) => {
  // Busy for everything but its keys, which the gateway needs to check the DELETE's token.
  const busy = await stub((req, res) =>
    TestIssuer.isJwksPath(req.url)
      ? json(res, 200, issuer.jwks)
      : json(res, 503, { statusCode: 503, error: 'Service Unavailable', message: 'busy' }),
  )
  t.teardown(() => busy.close())
  const app = await gateway(t, { USERS_URL: busy.url })
  const url = await listen(app)
  const dwight = bearer(await issuer.token('dwight_schrute'))
  const served = () => busy.requests.filter((request) => !TestIssuer.isJwksPath(request.url)).length
  // "At once": against a 200 from the same service through the gateway, timed just before, with a
  // margin no pause of a busy machine reaches.
  const timed = async (path: string, init: RequestInit) => {
    const started = performance.now()
    const response = await fetch(`${url}${path}`, init)
    await response.arrayBuffer()
    return { status: response.status, ms: performance.now() - started }
  }
  const baseline = await timed('/.well-known/jwks.json', {})
  t.equal(baseline.status, 200, 'the baseline: keys, which the service does answer')
  for (const method of ['GET', 'HEAD', 'DELETE']) {
    const before = served()
    const answer = await timed('/users/dwight_schrute/bookings', { method, headers: dwight })
    t.equal(answer.status, 503, method)
    // A retry would reach the service again before the answer came back.
    t.equal(served() - before, 1, `${method}: one request reached the service`)
    t.ok(
      answer.ms < baseline.ms + 1_000,
      `${method}: answered in ${answer.ms.toFixed(1)} ms, a 200 in ${baseline.ms.toFixed(1)} ms`,
    )
  }
  t.same((await app.inject('/users/x')).json(), { statusCode: 503, error: 'Service Unavailable', message: 'busy' })
})

t.test('GET / lists the services; GET /status says which are up and how fast', async (t) => {
  const moviesUrl = await listen(await build(t, moviesService))
  const app = await gateway(t, { MOVIES_URL: moviesUrl, USERS_URL: await deadUrl() })

  t.same((await app.inject('/')).json(), {
    uri: '/',
    subresource_uris: {
      users: '/users',
      movies: '/movies',
      showtimes: '/showtimes',
      bookings: '/bookings',
      status: '/status',
      docs: '/docs',
    },
  })
  const status = (await app.inject('/status')).json()
  const movieStatus = status.services.find((service: { name: string }) => service.name === 'movies')
  t.match(movieStatus, { name: 'movies', status: 'up', detail: 'ready' })
  t.ok(movieStatus.latencyMs > 0)
  t.match(
    status.services.find((service: { name: string }) => service.name === 'users'),
    {
      status: 'down',
      detail: 'users service is unavailable',
    },
  )
  t.same(
    status.services.map((service: { name: string }) => service.name),
    ['users', 'movies', 'showtimes', 'bookings'],
  )
})

t.test('JSON it could not re-send (nested 100,000 deep) is a 400 saying why; the service never sees it', async (t) => {
  const users = await echo()
  t.teardown(() => users.close())
  const app = await gateway(t, { USERS_URL: users.url })
  for (const payload of [
    `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
    `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`,
  ]) {
    const response = await app.inject({
      method: 'POST',
      url: '/users',
      payload,
      headers: { 'content-type': 'application/json' },
    })
    t.equal(response.statusCode, 400)
    t.same(response.json(), {
      statusCode: 400,
      error: 'Bad Request',
      message: 'body is nested more than 32 levels deep',
      code: 'BODY_TOO_LARGE',
    })
  }
  t.equal(users.requests.length, 0)
})

t.test('a Content-Type with a malformed parameter is a 400 saying so; the service never sees it', async (t) => {
  const users = await echo()
  t.teardown(() => users.close())
  const app = await gateway(t, { USERS_URL: users.url })
  for (const contentType of ['application/json;x', 'application/json; charset=', 'application/json;;;;=']) {
    const response = await app.inject({
      method: 'POST',
      url: '/auth/token',
      payload: JSON.stringify({ username: 'dwight_schrute', password: 'cinema-demo' }),
      headers: { 'content-type': contentType },
    })
    t.equal(response.statusCode, 400, contentType)
    t.same(response.json(), {
      statusCode: 400,
      error: 'Bad Request',
      message: 'the Content-Type header is malformed: each parameter must be name=value',
      code: 'BAD_REQUEST',
    })
  }
  t.equal(users.requests.length, 0)
  const wellFormed = await app.inject({
    method: 'POST',
    url: '/auth/token',
    payload: JSON.stringify({ username: 'dwight_schrute', password: 'cinema-demo' }),
    headers: { 'content-type': 'application/json; charset=utf-8' },
  })
  t.equal(wellFormed.statusCode, 200, 'a parameter that is name=value passes')
  t.equal(users.requests.length, 1)
})

t.test('Expect: 100-continue is answered by the gateway, and the request forwarded without it', async (t) => {
  const usersUrl = await listen(await build(t, usersService, DEMO_ENV))
  const bookings = await echo()
  t.teardown(() => bookings.close())
  const app = await gateway(t, { USERS_URL: usersUrl, BOOKINGS_URL: bookings.url })
  const gatewayUrl = await listen(app)

  /** As curl does: the head with the expectation, the body only after `100 Continue`. */
  async function expectContinue(
    base: string,
    method: string,
    path: string,
    body: string,
    headers: Record<string, string> = {},
  ) {
    const connection = await rawConnection(base)
    const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`)
    connection.send(
      `${method} ${path} HTTP/1.1\r\nHost: cinema.test\r\nContent-Type: application/json\r\n${extra.join('')}` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
    )
    const interim = await connection.until(/\r\n\r\n/)
    connection.send(body)
    return { interim, final: parseRawResponse(await connection.closed) }
  }

  for (const [base, route] of [
    [usersUrl, 'straight'],
    [gatewayUrl, 'through the gateway'],
  ] as const) {
    const id = route === 'straight' ? 'expect_straight' : 'expect_gateway'
    const password = 'erin-expects-much'
    const created = await expectContinue(base, 'POST', '/users', JSON.stringify({ id, name: 'Erin Expect', password }))
    t.equal(created.interim, 'HTTP/1.1 100 Continue\r\n\r\n', `${route}: 100 Continue first`)
    t.equal(created.final.status, 201, `${route}: POST /users 201`)
    t.match(created.final.body, { id, name: 'Erin Expect' })
    const erin = bearer(await signIn(base, id, password))
    const renamed = await expectContinue(base, 'PATCH', `/users/${id}`, JSON.stringify({ name: 'Erin' }), erin)
    t.equal(renamed.final.status, 200, `${route}: PATCH 200`)
    t.match(renamed.final.body, { id, name: 'Erin' })
  }

  const jim = bearer(await signIn(gatewayUrl, 'jim_halpert'))
  const put = await expectContinue(gatewayUrl, 'PUT', '/bookings/jim_halpert/20151130/x', '{"note":"kept"}', jim)
  t.equal(put.final.status, 200, 'PUT through the gateway')
  t.match(put.final.body, { method: 'PUT', body: '{"note":"kept"}' })
  t.notOk(bookings.requests.at(-1)?.headers.expect, 'the service is not asked to continue')
})

t.test('the gateway’s own failure is never blamed on a service: 500, logged as its own', async (t) => {
  const users = await stub((_req, res) => json(res, 200, {}))
  t.teardown(() => users.close())
  const logs: Record<string, unknown>[] = []
  const app = await build(
    t,
    gatewayService,
    { USERS_URL: users.url, LOG_LEVEL: 'warn' },
    { logStream: { write: (line: string) => logs.push(JSON.parse(line)) } },
  )

  // Node's parser would refuse this header; inject lets it reach the gateway's client, which
  // refuses to send it: the request never leaves the gateway.
  const answer = await app.inject({ url: '/users', headers: { 'x-note': 'a\u0007b' } })
  t.equal(answer.statusCode, 500)
  t.same(answer.json(), {
    statusCode: 500,
    error: 'Internal Server Error',
    message: 'Something went wrong on our side; it has been logged.',
    code: 'INTERNAL',
  })
  t.equal(users.requests.length, 0, 'nothing reached users')
  t.notOk(
    logs.some((line) => /users service/.test(String(line.msg))),
    'no log line blames users',
  )
  t.ok(
    logs.some((line) => line.level === 50 && line.msg === 'request failed'),
    'logged at error as the gateway’s own failure',
  )
  t.notMatch(
    (await app.metricsServer?.inject('/metrics'))?.body,
    /peer_request_duration_seconds_count\{peer="users"/,
    'not counted as a call to users',
  )
})

t.test('/metrics is served on a port of its own, not on the public one; closed with the gateway', async (t) => {
  const movies = await echo()
  t.teardown(() => movies.close())
  const app = await build(t, gatewayService, { MOVIES_URL: movies.url })
  const url = await listen(app)
  const metricsServer = app.metricsServer
  if (!metricsServer) throw new Error('the gateway has no metrics server')
  const metricsUrl = await metricsServer.listen({ host: '127.0.0.1', port: 0 })

  t.equal((await fetch(`${url}/movies`)).status, 200)
  const publicMetrics = await fetch(`${url}/metrics`)
  t.equal(publicMetrics.status, 404, 'not on the public port')
  t.same(await publicMetrics.json(), {
    statusCode: 404,
    error: 'Not Found',
    message: 'no route for GET /metrics',
    code: 'NOT_FOUND',
  })
  const document = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, unknown> }
  t.notOk(document.paths['/metrics'], 'nor in its API document')
  t.equal((await fetch(`${url}/livez`)).status, 200, 'probes stay on the public port')

  const scraped = await fetch(`${metricsUrl}/metrics`)
  t.equal(scraped.status, 200)
  t.match(scraped.headers.get('content-type'), /^text\/plain/)
  const text = await scraped.text()
  t.match(text, /http_request_duration_seconds_count\{method="GET",route="\/movies",status_code="200"\} 1/)
  t.match(text, /peer_request_duration_seconds_count\{peer="movies",method="GET",outcome="success"\} 1/)
  t.match(text, /process_resident_memory_bytes/)
  const other = await fetch(`${metricsUrl}/movies`)
  t.equal(other.status, 404, 'the metrics port serves nothing else')
  t.same(await other.json(), {
    statusCode: 404,
    error: 'Not Found',
    message: 'no route for GET /movies',
    code: 'NOT_FOUND',
  })

  await app.close()
  await t.rejects(fetch(`${metricsUrl}/metrics`), 'closed with the gateway')
})

t.test('GET /status asks the services at most once per second, however many ask it', async (t) => {
  const counted = () => stub((_req, res) => json(res, 200, { status: 'ready', checks: {} }))
  const upstreams = {
    users: await counted(),
    movies: await counted(),
    showtimes: await counted(),
    bookings: await counted(),
  }
  t.teardown(() => Promise.all(Object.values(upstreams).map((upstream) => upstream.close())))
  const app = await gateway(t, {
    USERS_URL: upstreams.users.url,
    MOVIES_URL: upstreams.movies.url,
    SHOWTIMES_URL: upstreams.showtimes.url,
    BOOKINGS_URL: upstreams.bookings.url,
  })
  const readyzCalls = () => Object.values(upstreams).map((upstream) => upstream.requests.length)

  const first = await Promise.all(
    Array.from({ length: 50 }, (_, i) => app.inject({ url: '/status', headers: { 'x-request-id': `hit-${i}` } })),
  )
  t.ok(first.every((answer) => answer.statusCode === 200))
  t.same(readyzCalls(), [1, 1, 1, 1], '50 hits at once: one set of calls')
  t.same(
    Object.values(upstreams).map((upstream) => upstream.requests[0]?.headers['x-request-id']),
    [undefined, undefined, undefined, undefined],
    "the shared check carries none of the hits' ids",
  )
  const checkedAt = first[0]?.json().checkedAt
  t.ok(
    first.every((answer) => answer.json().checkedAt === checkedAt),
    'one answer shared',
  )
  for (let i = 0; i < 20; i++) await app.inject('/status')
  t.same(readyzCalls(), [1, 1, 1, 1], 'hits within the second: none more')

  await new Promise((resolve) => setTimeout(resolve, 1_050))
  const later = await app.inject('/status')
  t.same(readyzCalls(), [2, 2, 2, 2], 'a second later: one new set')
  t.not(later.json().checkedAt, checkedAt)
  t.match(later.json().services, [{ name: 'users', status: 'up' }])
})

t.test('a replica shutting down: its mark stays between it and the gateway, and is not counted as sent', async (t) => {
  // One replica, closing every time: the gateway sends once more, then passes the 503 on.
  const closing = await stub((_req, res) =>
    res
      .writeHead(503, { 'content-type': 'application/json', 'x-replica-closing': '1', connection: 'close' })
      .end(
        '{"statusCode":503,"error":"Service Unavailable","message":"the movies service is shutting down; try again","code":"PEER_UNAVAILABLE","service":"movies"}',
      ),
  )
  t.teardown(closing.close)
  const app = await gateway(t, { MOVIES_URL: closing.url, RATE_LIMIT_MAX: '2', RATE_LIMIT_ALLOW: 'none' })
  const answer = await app.inject('/movies')
  t.equal(answer.statusCode, 503)
  t.equal(answer.headers['x-replica-closing'], undefined, 'the mark is not passed on')
  t.equal(closing.requests.length, 2, 'sent once more before giving up')
  await app.inject('/movies')
  t.equal((await app.inject('/movies')).statusCode, 429, 'rate limited: never sent')
  const metrics = await (
    await fetch(`${await app.metricsServer?.listen({ host: '127.0.0.1', port: 0 })}/metrics`)
  ).text()
  t.match(metrics, /peer_request_duration_seconds_count\{peer="movies",method="GET",outcome="server_error"\} 2/)
  t.notMatch(metrics, /outcome="client_error"/, 'the 429 the gateway answered itself is no call to movies')
})
