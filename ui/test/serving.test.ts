// How the web app is served: by nginx in the container (the project's template, rendered as the
// official image renders it) and by the local server under `npm start`. Both must behave alike.
import { gunzipSync } from 'node:zlib'
import t from 'tap'
import { eventually } from '../../test/helpers/eventually.js'
import { getFrom, idleConnections, KeepAliveConnection, trickle } from '../../test/helpers/slow-client.js'
import { CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from '../server/headers.js'
import { BUILT_APP, builtIndexHtml, initialAssets } from './helpers/build.js'
import { HELD_PATH, SESSION_COOKIE, startFakeGateway, UNAVAILABLE_PATH } from './helpers/fake-gateway.js'
import { get, send } from './helpers/http.js'
import { findNginx, startNginx } from './helpers/nginx.js'
import { startUiServer } from './helpers/ui-server.js'

const indexHtml = builtIndexHtml()
const script = initialAssets(indexHtml).find((path) => path.endsWith('.js'))
if (!script) throw new Error('the built index.html loads no script')

const nginx = findNginx()
const servers = [
  // Skipped, with the reason in the report, where nginx is not installed; CI installs it.
  // headersLimitMs: the time each allows for a request's head (client_header_timeout, HEADERS_TIMEOUT_MS).
  {
    name: 'nginx',
    start: startNginx,
    gzips: true,
    headersLimitMs: 10_000,
    // Beyond its worker_connections (1024, as in the image): nginx closes idle ones to make room.
    idleConnections: 1_100,
    skip: 'missing' in nginx ? nginx.missing : false,
  },
  {
    name: 'local server',
    start: startUiServer,
    gzips: false,
    headersLimitMs: 5_000,
    idleConnections: 600,
    skip: false,
  },
] as const

for (const server of servers) {
  t.test(`served by ${server.name}`, { skip: server.skip }, async (t) => {
    const gateway = await startFakeGateway()
    t.teardown(() => gateway.close())
    const ui = await server.start({ gatewayUrl: gateway.url, root: BUILT_APP })
    t.teardown(() => ui.close())

    // On Linux every 127.x.y.z is this machine: each local address is a client of its own.
    t.test(
      `a client holding ${server.idleConnections} idle connections does not stop another client’s requests`,
      async (t) => {
        const before = await getFrom(`${ui.url}/api/movies`, '127.0.0.3')
        t.equal(before.status, 200)
        const idle = await idleConnections(ui.url, server.idleConnections, '127.0.0.2')
        t.teardown(() => idle.close())
        const [page, api] = [
          await getFrom(`${ui.url}/`, '127.0.0.3'),
          await getFrom(`${ui.url}/api/movies`, '127.0.0.3'),
        ]
        t.comment(
          `${server.idleConnections} idle: another client's /api/ request took ${Math.round(api.ms)} ms (${Math.round(before.ms)} ms before), its page ${Math.round(page.ms)} ms`,
        )
        t.same([page.status, api.status], [200, 200], 'the page and the API answered, not refused')
        // Promptly: within what the same request took before, with room for a busy machine.
        t.ok(Math.max(page.ms, api.ms) < Math.max(2_000, 10 * before.ms), 'promptly')
      },
    )

    t.test('one client: 64 requests at once, or 64 connections, at most', async (t) => {
      // Another client than the idle one above, whose connections the server may still be closing.
      if (server.name === 'nginx') {
        // nginx counts requests in progress (limit_conn); each of these waits on the gateway.
        const inProgress = Array.from({ length: 64 }, (_, index) =>
          getFrom(`${ui.url}/api${HELD_PATH}/${index}`, '127.0.0.4'),
        )
        const held = () => gateway.received.filter((request) => request.url.startsWith(HELD_PATH)).length
        t.equal(await eventually(held, (count) => count === 64), 64, '64 reached the gateway')
        const refused = await getFrom(`${ui.url}/api${HELD_PATH}/64`, '127.0.0.4')
        t.equal(refused.status, 429, 'the 65th is refused')
        t.match(JSON.parse(refused.body), {
          statusCode: 429,
          code: 'RATE_LIMITED',
          message: /too many requests at once/,
        })
        t.equal((await getFrom(`${ui.url}/api/movies`, '127.0.0.3')).status, 200, 'another client is served')
        gateway.release()
        const answered = await Promise.all(inProgress)
        t.equal(answered.filter(({ status }) => status === 200).length, 64, 'the 64 answered once the gateway did')
        return
      }
      // The local server counts connections (MAX_CONNECTIONS_PER_CLIENT), idle ones too.
      const open = await Promise.all(Array.from({ length: 65 }, () => KeepAliveConnection.open(ui.url, '127.0.0.4')))
      t.teardown(() => {
        for (const connection of open) connection.close()
      })
      const statuses = await Promise.all(open.map((connection) => connection.get('/livez')))
      t.equal(statuses.filter((status) => status === 200).length, 64, '64 served')
      t.equal(statuses.filter((status) => status === null).length, 1, 'the 65th closed without an answer')
    })

    t.test('page URLs load the app, so a reload or a shared link works', async (t) => {
      for (const path of ['/', '/movies', '/showtimes?date=20151201', '/users', '/bookings/dwight_schrute']) {
        const response = await get(`${ui.url}${path}`)
        t.equal(response.status, 200, path)
        t.match(response.headers['content-type'], /^text\/html/, `${path} is HTML`)
        t.equal(response.text, indexHtml, `${path} is the app's index.html`)
        t.equal(response.headers['cache-control'], 'no-cache', `${path} is checked again on every load`)
      }
    })

    t.test('/api/… reaches the gateway without the /api prefix, query kept', async (t) => {
      const response = await get(`${ui.url}/api/movies?x=1`)
      t.equal(response.status, 200)
      t.same(JSON.parse(response.text), { answeredBy: 'fake gateway', path: '/movies?x=1' })
      t.equal(gateway.received.at(-1)?.url, '/movies?x=1')
      t.match(gateway.received.at(-1)?.requestId, /^[\w-]{16,}$/, 'with a request id to follow it in the logs')
      t.notOk(response.headers['cache-control'], 'the gateway decides about caching its answers')
    })

    t.test('the gateway learns the client’s address, whatever the client claims', async (t) => {
      // The gateway believes X-Forwarded-For from the UI only, and counts each visitor apart by it.
      await get(`${ui.url}/api/movies`, { 'x-forwarded-for': '127.0.0.9' })
      const forwardedFor = gateway.received.at(-1)?.forwardedFor ?? ''
      t.equal(forwardedFor.split(',').at(-1)?.trim(), '127.0.0.1', 'the last address is the one the UI saw')
      // nginx appends to a claimed one (the gateway stops at the UI's entry), the local server replaces it.
      if (server.name === 'local server') t.equal(forwardedFor, '127.0.0.1', 'a claimed address is replaced')
    })

    t.test('a body sent with `Expect: 100-continue` reaches the gateway, with the expectation met here', async (t) => {
      const body = JSON.stringify({ name: 'Dwight Schrute' })
      const headers = { 'content-type': 'application/json', expect: '100-continue' }
      for (const method of ['POST', 'PUT', 'PATCH']) {
        const response = await send(method, `${ui.url}/api/users/dwight_schrute`, headers, body)
        t.equal(response.status, 200, `${method}: the gateway's answer, not a 502`)
        t.match(gateway.received.at(-1), { method, url: '/users/dwight_schrute', body }, `${method}: body forwarded`)
      }
    })

    t.test('the session cookie and the app’s CSRF header pass both ways, untouched', async (t) => {
      const signIn = await send(
        'POST',
        `${ui.url}/api/auth/session`,
        { 'content-type': 'application/json', 'x-requested-with': 'cinema' },
        JSON.stringify({ username: 'pam_beesly', password: 'a password' }),
      )
      t.same(signIn.headers['set-cookie'], [SESSION_COOKIE], 'the gateway’s Set-Cookie reaches the browser as sent')
      t.equal(gateway.received.at(-1)?.requestedWith, 'cinema', 'X-Requested-With reaches the gateway')

      const cookie = 'cinema_session=header.payload.signature'
      const booking = await send('PUT', `${ui.url}/api/bookings/pam_beesly/20151201/x`, {
        cookie,
        'x-requested-with': 'cinema',
      })
      t.equal(booking.status, 200)
      t.match(
        gateway.received.at(-1),
        { method: 'PUT', cookie, requestedWith: 'cinema' },
        'the cookie reaches the gateway',
      )

      // Behind a proxy that ended TLS (an ingress), the gateway must still learn the browser used
      // HTTPS: it marks the cookie Secure by it.
      await send('POST', `${ui.url}/api/auth/session`, {
        'x-forwarded-proto': 'https',
        'x-requested-with': 'cinema',
      })
      t.equal(
        gateway.received.at(-1)?.forwardedProto,
        'https',
        'X-Forwarded-Proto: https from the proxy in front is kept',
      )
      t.equal(gateway.received.at(-1)?.forwardedPrefix, '/api', 'the gateway learns the browser sees it under /api')
    })

    t.test('a body over 1 MiB is a JSON 413, the gateway never asked', async (t) => {
      const before = gateway.received.length
      const body = JSON.stringify({ name: 'x'.repeat(1_100_000) })
      const response = await send(
        'PATCH',
        `${ui.url}/api/users/dwight_schrute`,
        { 'content-type': 'application/json' },
        body,
      )
      t.equal(response.status, 413)
      t.match(response.headers['content-type'], /^application\/json/)
      t.same(JSON.parse(response.text), {
        statusCode: 413,
        error: 'Payload Too Large',
        message: 'the request body is larger than 1048576 bytes',
        code: 'BODY_TOO_LARGE',
      })
      t.equal(gateway.received.length, before)
    })

    t.test('hop-by-hop headers a client sends stay on its connection', async (t) => {
      const hopByHop: Record<string, string>[] = [
        { 'keep-alive': 'timeout=5' },
        { upgrade: 'websocket' },
        { te: 'trailers' },
      ]
      for (const headers of hopByHop) {
        const response = await get(`${ui.url}/api/movies`, headers)
        t.equal(response.status, 200, `${JSON.stringify(headers)}: the gateway's answer, not a 502`)
      }
    })

    t.test("the gateway's 503 passes through at once, not retried", async (t) => {
      // "At once" against a 200 timed just before, in the same conditions, with a margin no scheduler
      // or GC pause reaches; a wall-clock limit alone fails on a busy machine. That it was not retried
      // is the count below: every retry would reach the gateway too.
      const baselineStarted = performance.now()
      const baseline = await get(`${ui.url}/api/movies`)
      const baselineMs = performance.now() - baselineStarted
      t.equal(baseline.status, 200, 'the baseline: an answer the gateway gives at once')
      const before = gateway.received.length
      const started = performance.now()
      const response = await get(`${ui.url}/api${UNAVAILABLE_PATH}/movies`)
      const elapsedMs = performance.now() - started
      t.equal(response.status, 503)
      t.same(JSON.parse(response.text), { answeredBy: 'fake gateway', path: `${UNAVAILABLE_PATH}/movies` })
      t.equal(gateway.received.length - before, 1, 'the gateway was asked once')
      t.ok(
        elapsedMs < baselineMs + 1_000,
        `answered in ${Math.round(elapsedMs)} ms, a 200 in ${Math.round(baselineMs)} ms: no wait on top`,
      )
    })

    t.test('a client sending its headers a byte every 500 ms is cut off long before it could finish', async (t) => {
      // 78 bytes: 39 s to send them all; the client gives up at 45 s, by when it would have sent
      // everything had nobody cut it off.
      const head = 'GET /movies HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slow\r\nAccept: text/html\r\n\r\n'
      const slow = await trickle(ui.url, { head, everyMs: 500, giveUpMs: 45_000, headersToo: true })
      t.comment(`${server.name}: cut off after ${(slow.heldMs / 1000).toFixed(1)} s, ${slow.bytesSent} bytes sent`)
      t.ok(slow.bytesSent < head.length, `cut before the head was complete: ${slow.bytesSent} of ${head.length} bytes`)
      // Cut at the server's limit, with 5 s for the deadline checks and a busy machine.
      t.ok(
        slow.heldMs >= server.headersLimitMs - 500 && slow.heldMs < server.headersLimitMs + 5_000,
        `held ${Math.round(slow.heldMs)} ms (limit ${server.headersLimitMs} ms)`,
      )
    })

    t.test('every answer carries the security headers, once', async (t) => {
      for (const path of ['/', '/movies', script, '/api/users']) {
        const { headers } = await get(`${ui.url}${path}`)
        // A header sent twice would arrive joined with ", " and fail these.
        for (const [name, value] of Object.entries(SECURITY_HEADERS)) t.equal(headers[name], value, `${path}: ${name}`)
      }
    })

    t.test('hashed assets are cached for good, a missing one is a 404', async (t) => {
      const asset = await get(`${ui.url}${script}`)
      t.equal(asset.status, 200)
      t.match(asset.headers['content-type'], /javascript/)
      t.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable')

      const missing = await get(`${ui.url}/assets/index-missing.js`)
      t.equal(missing.status, 404, 'never index.html in place of a script')
      t.notMatch(String(missing.headers['cache-control']), /immutable/, 'a 404 is not cached for a year')
    })

    if (server.gzips) {
      t.test('scripts are sent gzipped to browsers that accept it', async (t) => {
        const response = await get(`${ui.url}${script}`, { 'accept-encoding': 'gzip' })
        t.equal(response.headers['content-encoding'], 'gzip')
        const plain = await get(`${ui.url}${script}`)
        t.ok(response.body.length < plain.body.length, 'smaller than the plain file')
        t.equal(gunzipSync(response.body).toString('utf8'), plain.text, 'same script once unpacked')
      })
    }

    t.test('with the gateway down, /api/ answers a JSON error naming it', async (t) => {
      await gateway.close()
      const response = await get(`${ui.url}/api/movies`)
      t.equal(response.status, 502)
      t.match(response.headers['content-type'], /^application\/json/)
      t.match(JSON.parse(response.text), { statusCode: 502, message: 'gateway is unavailable' })
    })
  })
}

t.test('the policy allows this origin only, no inline code, no framing', async (t) => {
  t.match(CONTENT_SECURITY_POLICY, /^default-src 'self';/)
  t.match(CONTENT_SECURITY_POLICY, /frame-ancestors 'none'/)
  t.notMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval|\*|https?:/)
  t.equal(SECURITY_HEADERS['x-content-type-options'], 'nosniff')
  t.equal(SECURITY_HEADERS['referrer-policy'], 'no-referrer')
})

t.test('the built page loads nothing inline and nothing from elsewhere', async (t) => {
  t.notMatch(indexHtml, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script')
  t.notMatch(indexHtml, /<style|\sstyle=/, 'no inline style')
  t.notMatch(indexHtml, /(?:src|href)="(?:https?:)?\/\//, 'no script, style or font from another site')
})
