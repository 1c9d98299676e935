import { request as httpRequest } from 'node:http'
import t, { type Test } from 'tap'
import { moviesService } from '../../movies/src/app.js'
import { build, deadUrl, json, listen, stub } from '../../test/helpers/servers.js'
import { gatewayService } from '../src/app.js'

async function gateway(t: Test, env: Record<string, string>) {
  return build(t, gatewayService, env)
}

t.test(
  'rate limit per client: 429 with Retry-After past the limit; only the allow-list (loopback by default) exempt',
  async (t) => {
    const upstream = await stub((_req, res) => json(res, 200, {}))
    t.teardown(() => upstream.close())

    const limited = await gateway(t, { MOVIES_URL: upstream.url, RATE_LIMIT_MAX: '3', RATE_LIMIT_ALLOW: '' })
    const from = (remoteAddress: string) => limited.inject({ url: '/movies', remoteAddress })
    for (let i = 0; i < 3; i++) t.equal((await from('198.51.100.7')).statusCode, 200)
    const refused = await from('198.51.100.7')
    t.equal(refused.statusCode, 429)
    t.match(refused.headers['retry-after'], /^\d+$/)
    t.same(Object.keys(refused.json()).sort(), ['code', 'error', 'message', 'statusCode'])
    // 60 s from the first request; 59 if these four took over a second on a busy machine.
    t.match(refused.json(), {
      statusCode: 429,
      error: 'Too Many Requests',
      message: /^too many requests; retry in (59|60) s$/,
      code: 'RATE_LIMITED',
    })
    t.equal((await from('198.51.100.8')).statusCode, 200, 'another client has its own budget')
    t.equal(upstream.requests.length, 4, 'the refused request never reached the service')
    for (const path of ['/status', '/livez', '/readyz', '/openapi.json', '/docs', '/nowhere', '/metrics']) {
      const answer = await limited.inject({ url: path, remoteAddress: '198.51.100.7' })
      t.equal(answer.statusCode, 429, `${path} limited too`)
      t.equal(answer.json().error, 'Too Many Requests')
    }
    // Unknown paths count: a client guessing URLs spends its allowance on them.
    for (let i = 0; i < 3; i++) {
      t.equal((await limited.inject({ url: '/guess', remoteAddress: '198.51.100.9' })).statusCode, 404)
    }
    t.equal((await limited.inject({ url: '/movies', remoteAddress: '198.51.100.9' })).statusCode, 429)

    const local = await gateway(t, { MOVIES_URL: upstream.url, RATE_LIMIT_MAX: '3' })
    const statuses = await Promise.all(
      ['/movies', '/status', '/livez', '/nowhere'].flatMap((url) =>
        Array.from({ length: 5 }, () => local.inject({ url, remoteAddress: '127.0.0.1' })),
      ),
    )
    const none = await gateway(t, { MOVIES_URL: upstream.url, RATE_LIMIT_MAX: '3', RATE_LIMIT_ALLOW: 'none' })
    const fromLoopback = []
    for (let i = 0; i < 4; i++)
      fromLoopback.push((await none.inject({ url: '/movies', remoteAddress: '127.0.0.1' })).statusCode)
    t.same(fromLoopback, [200, 200, 200, 429], 'RATE_LIMIT_ALLOW=none: loopback is limited too')
    t.ok(
      statuses.every((response) => response.statusCode !== 429),
      'loopback is on the default allow-list (local load tests)',
    )
  },
)

t.test('body limit: 413 JSON above BODY_LIMIT_BYTES, declared or streamed; the service never sees it', async (t) => {
  const users = await stub((_req, res) => json(res, 201, {}))
  t.teardown(() => users.close())
  const app = await gateway(t, { USERS_URL: users.url, BODY_LIMIT_BYTES: '1024' })
  const url = await listen(app)

  const small = await fetch(`${url}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'a', name: 'x'.repeat(100) }),
  })
  t.equal(small.status, 201)

  const large = await fetch(`${url}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'a', name: 'x'.repeat(2_000) }),
  })
  t.equal(large.status, 413)
  t.same(await large.json(), {
    statusCode: 413,
    error: 'Payload Too Large',
    message: 'Request body is too large',
    code: 'BODY_TOO_LARGE',
  })

  // No Content-Length: the limit must hold on the bytes as they arrive.
  const streamed = await new Promise<number>((resolve, reject) => {
    const req = httpRequest(`${url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    })
    req.on('response', (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.write('{"id":"a","name":"')
    req.write('x'.repeat(4_000))
    req.end('"}')
  })
  t.equal(streamed, 413)
  t.equal(users.requests.length, 1, 'only the small body was forwarded')
})

t.test('security headers on every answer, proxied ones included; no x-powered-by', async (t) => {
  const express = await stub((_req, res) => {
    res.setHeader('x-powered-by', 'Express')
    json(res, 200, {})
  })
  t.teardown(() => express.close())
  const app = await gateway(t, { MOVIES_URL: express.url })
  for (const path of ['/movies', '/status', '/nowhere']) {
    const response = await app.inject(path)
    t.equal(response.headers['x-content-type-options'], 'nosniff', path)
    t.match(response.headers['content-security-policy'], /default-src 'self'/, path)
    t.match(response.headers['strict-transport-security'], /max-age=/, path)
    t.equal(response.headers['x-frame-options'], 'SAMEORIGIN', path)
    t.notOk(response.headers['x-powered-by'], `${path}: no x-powered-by`)
  }
})

t.test('CORS: closed unless CORS_ORIGINS lists the origin', async (t) => {
  const movies = await stub((_req, res) => json(res, 200, {}))
  t.teardown(() => movies.close())

  const closed = await gateway(t, { MOVIES_URL: movies.url })
  const simple = await closed.inject({ url: '/movies', headers: { origin: 'https://evil.example' } })
  t.notOk(simple.headers['access-control-allow-origin'])
  const preflight = await closed.inject({
    method: 'OPTIONS',
    url: '/movies',
    headers: { origin: 'https://evil.example', 'access-control-request-method': 'PUT' },
  })
  t.notOk(preflight.headers['access-control-allow-origin'], 'no preflight approval')
  t.equal(movies.requests.length, 1, 'the preflight never reached a service')

  const open = await gateway(t, { MOVIES_URL: movies.url, CORS_ORIGINS: 'https://app.example, https://admin.example' })
  const allowed = await open.inject({ url: '/movies', headers: { origin: 'https://admin.example' } })
  t.equal(allowed.headers['access-control-allow-origin'], 'https://admin.example')
  const other = await open.inject({ url: '/movies', headers: { origin: 'https://evil.example' } })
  t.notOk(other.headers['access-control-allow-origin'])
  const approved = await open.inject({
    method: 'OPTIONS',
    url: '/bookings/dwight_schrute/20151201/x',
    headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT' },
  })
  t.equal(approved.statusCode, 204)
  t.equal(approved.headers['access-control-allow-origin'], 'https://app.example')
  t.match(approved.headers['access-control-allow-methods'], /PUT/)
})

t.test('TRUST_PROXY: X-Forwarded-For believed only from the listed proxies', async (t) => {
  const users = await stub((_req, res) => json(res, 200, {}))
  t.teardown(() => users.close())
  const app = await gateway(t, {
    USERS_URL: users.url,
    TRUST_PROXY: '10.0.0.2',
    RATE_LIMIT_MAX: '1',
    RATE_LIMIT_ALLOW: '',
  })
  const viaProxy = (client: string) =>
    app.inject({ url: '/users', remoteAddress: '10.0.0.2', headers: { 'x-forwarded-for': client } })
  t.equal((await viaProxy('203.0.113.1')).statusCode, 200)
  t.equal((await viaProxy('203.0.113.2')).statusCode, 200, 'clients behind the proxy are told apart')
  t.equal((await viaProxy('203.0.113.1')).statusCode, 429)
  const spoofed = (client: string) =>
    app.inject({ url: '/users', remoteAddress: '198.51.100.1', headers: { 'x-forwarded-for': client } })
  t.equal((await spoofed('203.0.113.3')).statusCode, 200)
  t.equal((await spoofed('203.0.113.4')).statusCode, 429, 'an untrusted peer cannot pose as many clients')
})

t.test('TRUST_PROXY by host name: the proxy’s current address is looked up', async (t) => {
  const users = await stub((_req, res) => json(res, 200, {}))
  t.teardown(() => users.close())
  const app = await gateway(t, {
    USERS_URL: users.url,
    TRUST_PROXY: 'localhost',
    RATE_LIMIT_MAX: '1',
    RATE_LIMIT_ALLOW: '',
  })
  await new Promise((resolve) => setTimeout(resolve, 100)) // the first lookup
  const viaLocalhost = (client: string) =>
    app.inject({ url: '/users', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': client } })
  t.equal((await viaLocalhost('203.0.113.1')).statusCode, 200)
  t.equal((await viaLocalhost('203.0.113.2')).statusCode, 200, 'a proxy named by host name is believed')
  t.equal((await viaLocalhost('203.0.113.1')).statusCode, 429)
})

t.test('GET /docs: one page with the documents of the gateway and every service', async (t) => {
  const moviesUrl = await listen(await build(t, moviesService))
  const app = await gateway(t, { MOVIES_URL: moviesUrl, USERS_URL: await deadUrl() })

  const page = await app.inject('/docs')
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
  const initializer = await app.inject('/docs/static/swagger-initializer.js')
  for (const name of ['gateway', 'users', 'movies', 'showtimes', 'bookings']) {
    t.match(initializer.body, new RegExp(`"name":"${name}"`), `${name} listed`)
  }

  const document = (await app.inject('/docs/services/movies.json')).json()
  t.same(Object.keys(document.paths).sort(), ['/movies', '/movies/{id}'], 'only what the gateway routes')
  t.same(document.servers, [{ url: '/' }])
  t.equal(document.paths['/movies/{id}'].get.operationId, 'getMovie')
  t.equal((await app.inject('/docs/services/nothing.json')).statusCode, 404)
  const down = await app.inject('/docs/services/users.json')
  t.equal(down.statusCode, 503)
  t.equal(down.json().message, 'users service is unavailable')

  const own = (await app.inject('/docs/json')).json()
  t.ok(own.paths['/status'].get.operationId, 'the gateway documents its own routes')
})
