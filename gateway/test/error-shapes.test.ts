// Every error, whoever answers it (a route, Fastify's router or body parser, Node's HTTP parser),
// straight at each service and through the gateway: exactly {statusCode, error, message, code},
// `error` the reason phrase of the status, `code` the one declared for its cause, and the same body
// through the gateway as straight.
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import { type BaseConfig, ERROR_CODES, type ErrorCode, type ServiceDefinition } from '@cinema/kit'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { bookingsService } from '../../bookings/src/app.js'
import { moviesService } from '../../movies/src/app.js'
import { showtimesService } from '../../showtimes/src/app.js'
import { build, listen, parseRawResponse, rawConnection, rawRequest } from '../../test/helpers/servers.js'
import { usersService } from '../../users/src/app.js'
import { gatewayService } from '../src/app.js'

function assertErrorShape(t: Test, status: number, code: ErrorCode, body: unknown, label: string) {
  t.same(
    Object.keys(body as object).sort(),
    ['code', 'error', 'message', 'statusCode'],
    `${label}: exactly the four fields`,
  )
  t.match(
    body,
    { statusCode: status, error: STATUS_CODES[status], message: /\S/, code },
    `${label}: ${status} with its reason phrase and ${code}`,
  )
  t.ok(ERROR_CODES.includes((body as { code: ErrorCode }).code), `${label}: a declared code`)
}

async function started<Config extends BaseConfig>(
  t: Test,
  definition: ServiceDefinition<Config>,
  env: NodeJS.ProcessEnv = {},
): Promise<{ app: FastifyInstance; url: string }> {
  const app = await build(t, definition, env)
  return { app, url: await listen(app) }
}

const json = { 'content-type': 'application/json' }
const HTTP_CASES: { name: string; path: string; init?: RequestInit; status: number; code: ErrorCode }[] = [
  {
    name: 'JSON null',
    path: '/users',
    init: { method: 'POST', headers: json, body: 'null' },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'JSON false',
    path: '/users',
    init: { method: 'POST', headers: json, body: 'false' },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'JSON 0',
    path: '/users',
    init: { method: 'POST', headers: json, body: '0' },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'JSON empty string',
    path: '/users',
    init: { method: 'POST', headers: json, body: '""' },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'bad JSON',
    path: '/users',
    init: { method: 'POST', headers: json, body: '{"id":' },
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'empty JSON body',
    path: '/users',
    init: { method: 'POST', headers: json, body: '' },
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'wrong content type',
    path: '/users',
    init: { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<user/>' },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'body too large',
    path: '/users',
    init: { method: 'POST', headers: json, body: JSON.stringify({ id: 'big', name: 'x'.repeat(1_100_000) }) },
    status: 413,
    code: 'BODY_TOO_LARGE',
  },
  {
    name: 'invalid field',
    path: '/users',
    init: { method: 'POST', headers: json, body: '{"id":1}' },
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  { name: 'unknown route', path: '/nowhere', status: 404, code: 'NOT_FOUND' },
  { name: 'unknown route below a service', path: '/users/dwight_schrute/elsewhere/x', status: 404, code: 'NOT_FOUND' },
  { name: 'unknown method', path: '/users', init: { method: 'OPTIONS' }, status: 404, code: 'NOT_FOUND' },
  { name: 'path part over maxParamLength', path: `/users/${'a'.repeat(101)}`, status: 414, code: 'URL_TOO_LONG' },
  { name: 'bad percent-encoding', path: '/users/%', status: 400, code: 'BAD_REQUEST' },
  {
    name: 'a write without a token',
    path: '/users/dwight_schrute',
    init: { method: 'DELETE' },
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'an Authorization header that is no bearer token',
    path: '/users/dwight_schrute',
    init: { method: 'DELETE', headers: { authorization: 'Basic ZHdpZ2h0OmJlZXRz' } },
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'a bearer token that is not a token',
    path: '/users/dwight_schrute',
    init: { method: 'DELETE', headers: { authorization: 'Bearer a.b.c' } },
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'a wrong password',
    path: '/auth/token',
    init: { method: 'POST', headers: json, body: JSON.stringify({ username: 'nobody', password: 'not-a-password' }) },
    status: 401,
    code: 'BAD_CREDENTIALS',
  },
]

t.test('HTTP errors: one shape, the same body straight and through the gateway', async (t) => {
  const users = await started(t, usersService)
  const gateway = await started(t, gatewayService, { USERS_URL: users.url })
  for (const { name, path, init, status, code } of HTTP_CASES) {
    const straight = await fetch(`${users.url}${path}`, init)
    const through = await fetch(`${gateway.url}${path}`, init)
    const straightBody = await straight.json()
    t.equal(straight.status, status, `${name} straight: ${status}`)
    t.equal(through.status, status, `${name} through the gateway: ${status}`)
    assertErrorShape(t, status, code, straightBody, `${name} straight`)
    t.same(await through.json(), straightBody, `${name}: the same body through the gateway`)
  }
})

// `at`: only where the path has a route that reads a body (the chunk is parsed as it is read).
const RAW_CASES: { name: string; request: string; status: number; code: ErrorCode; at?: string[] }[] = [
  {
    name: 'two Host headers',
    request: 'GET /livez HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\nConnection: close\r\n\r\n',
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'no Host header',
    request: 'GET /livez HTTP/1.1\r\nConnection: close\r\n\r\n',
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    // Routing refuses such a path before any hook: the Host check must still come first.
    name: 'two Host headers and a path part over maxParamLength',
    request: `GET /users/${'a'.repeat(101)} HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\nConnection: close\r\n\r\n`,
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'two Host headers and bad percent-encoding',
    request: 'GET /users/% HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\nConnection: close\r\n\r\n',
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'two hosts in one Host header',
    request: 'GET /livez HTTP/1.1\r\nHost: a.test, b.test\r\nConnection: close\r\n\r\n',
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'a Host header with user info',
    request: 'GET /livez HTTP/1.1\r\nHost: user@a.test\r\nConnection: close\r\n\r\n',
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'a malformed header line',
    request: 'GET /livez HTTP/1.1\r\nHost: a.test\r\nBad Header: x\r\n\r\n',
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'headers over the limit',
    request: `GET /livez HTTP/1.1\r\nHost: a.test\r\nX-Filler: ${'a'.repeat(20_000)}\r\n\r\n`,
    status: 431,
    code: 'HEADERS_TOO_LARGE',
  },
  {
    name: 'chunk extensions over the limit',
    request: `POST /users HTTP/1.1\r\nHost: a.test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2;${'x'.repeat(20_000)}\r\n{}\r\n0\r\n\r\n`,
    status: 413,
    code: 'BODY_TOO_LARGE',
    at: ['users', 'gateway'],
  },
  {
    name: 'an expectation other than 100-continue',
    request: 'GET /livez HTTP/1.1\r\nHost: a.test\r\nExpect: tea\r\nConnection: close\r\n\r\n',
    status: 417,
    code: 'EXPECTATION_FAILED',
  },
]

t.test('errors before any route, at every service and the gateway: JSON, one shape', async (t) => {
  const servers = {
    movies: await started(t, moviesService),
    showtimes: await started(t, showtimesService),
    users: await started(t, usersService),
    bookings: await started(t, bookingsService),
    gateway: await started(t, gatewayService),
  }
  for (const [service, { url }] of Object.entries(servers)) {
    for (const { name, request, status, code, at } of RAW_CASES) {
      if (at && !at.includes(service)) continue
      const answer = parseRawResponse(await rawRequest(url, request))
      t.equal(answer.status, status, `${service}, ${name}: ${status}`)
      t.match(answer.head, /\r\ncontent-type: application\/json/i, `${service}, ${name}: JSON`)
      t.match(answer.head, /\r\nconnection: close/i, `${service}, ${name}: connection closed`)
      assertErrorShape(t, status, code, answer.body, `${service}, ${name}`)
    }
    const one = parseRawResponse(
      await rawRequest(url, 'GET /livez HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n'),
    )
    t.equal(one.status, 200, `${service}: one Host header is fine`)
    for (const host of ['A.Test:8080', '127.0.0.1', '[::1]:5000', '']) {
      const request = `GET /livez HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`
      t.equal(parseRawResponse(await rawRequest(url, request)).status, 200, `${service}: Host "${host}" is fine`)
    }
    const old = parseRawResponse(await rawRequest(url, 'GET /livez HTTP/1.0\r\n\r\n'))
    t.equal(old.status, 200, `${service}: HTTP/1.0 needs no Host`)
  }
})

t.test('a request that does not arrive in time: 408 JSON, then the connection is closed', async (t) => {
  const { app, url } = await started(t, moviesService)
  // Node's request timeout fires on a 30 s sweep; the error it then raises is given directly.
  const accepted = new Promise<Socket>((resolve) => app.server.once('connection', resolve))
  const connection = await rawConnection(url)
  connection.send('GET /movies HTTP/1.1\r\nHost: a.test\r\n')
  const socket = await accepted
  app.server.emit(
    'clientError',
    Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }),
    socket,
  )
  const answer = parseRawResponse(await connection.closed)
  t.equal(answer.status, 408)
  assertErrorShape(t, 408, 'REQUEST_TIMEOUT', answer.body, 'request timeout')
  t.equal((answer.body as { message: string }).message, 'the request did not arrive in time')
})
