import { get as httpGet, type IncomingHttpHeaders } from 'node:http'
import t, { type Test } from 'tap'
import { moviesService } from '../../movies/src/app.js'
import { loadMoviesConfig } from '../../movies/src/config.js'
import { buildTestService, deadUrl, json, listen, stub } from '../../test/helpers/servers.js'
import { gatewayService } from '../src/app.js'
import { loadGatewayConfig } from '../src/config.js'

const CREED = '267eedb8-0f5d-42d5-8f43-72426b9fb3e6'

/** An upstream that answers with what it received. */
const echo = () =>
  stub((req, res) => {
    let body = ''
    req.on('data', (chunk) => {
      body += chunk
    })
    req.on('end', () => json(res, 200, { method: req.method, url: req.url, headers: req.headers, body }))
  })

async function gateway(t: Test, env: Record<string, string>) {
  const app = await buildTestService(gatewayService, loadGatewayConfig, env)
  t.teardown(() => app.close())
  return app
}

t.test('forwards each prefix and everything below it, path, query, method and body unchanged', async (t) => {
  const upstreams = { users: await echo(), movies: await echo(), showtimes: await echo(), bookings: await echo() }
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
  ] as const) {
    const response = await app.inject(path)
    t.equal(response.statusCode, 200, path)
    t.equal(response.json().url, path, `${path} reaches ${name} unchanged`)
    t.equal(upstreams[name].requests.at(-1)?.url, path)
  }

  const put = await app.inject({
    method: 'PUT',
    url: `/bookings/dwight_schrute/20151201/${CREED}`,
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
  const movies = await buildTestService(moviesService, loadMoviesConfig)
  const moviesUrl = await listen(movies)
  t.teardown(() => movies.close())
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
  t.same(down.json(), { statusCode: 503, error: 'Service Unavailable', message: 'movies service is unavailable' })

  const started = Date.now()
  const slow = await app.inject('/users/dwight_schrute')
  t.equal(slow.statusCode, 504)
  t.same(slow.json(), {
    statusCode: 504,
    error: 'Gateway Timeout',
    message: 'users service did not answer within 300 ms',
  })
  t.ok(Date.now() - started < 1_500)

  for (const path of ['/nope', '/moviesx', '/api/movies']) {
    const missing = await app.inject(path)
    t.equal(missing.statusCode, 404, path)
    t.same(missing.json(), { statusCode: 404, error: 'Not Found', message: `no route for GET ${path}` })
  }

  const metrics = (await app.inject('/metrics')).body
  t.match(metrics, /peer_request_duration_seconds_count\{peer="movies",method="GET",outcome="unavailable"\} 1/)
  t.match(metrics, /peer_request_duration_seconds_count\{peer="users",method="GET",outcome="timeout"\} 1/)
})

t.test('a service’s 503 passes through at once, never retried', async (t) => {
  const busy = await stub((_req, res) =>
    json(res, 503, { statusCode: 503, error: 'Service Unavailable', message: 'busy' }),
  )
  t.teardown(() => busy.close())
  const app = await gateway(t, { USERS_URL: busy.url })
  const url = await listen(app)
  for (const method of ['GET', 'HEAD', 'DELETE']) {
    const before = busy.requests.length
    const started = performance.now()
    const response = await fetch(`${url}/users/dwight_schrute/bookings`, { method })
    await response.arrayBuffer()
    const elapsed = performance.now() - started
    t.equal(response.status, 503, method)
    t.equal(busy.requests.length - before, 1, `${method}: one request reached the service`)
    t.ok(elapsed < 50, `${method}: answered in ${elapsed.toFixed(1)} ms`)
  }
  t.same((await app.inject('/users/x')).json(), { statusCode: 503, error: 'Service Unavailable', message: 'busy' })
})

t.test('GET / lists the services; GET /status says which are up and how fast', async (t) => {
  const movies = await buildTestService(moviesService, loadMoviesConfig)
  const moviesUrl = await listen(movies)
  t.teardown(() => movies.close())
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
