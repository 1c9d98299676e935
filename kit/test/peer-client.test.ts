import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { Type } from 'typebox'
import { deadUrl, stub } from '../../test/helpers/servers.js'
import { loadConfig, serviceConfigSchema } from '../src/config.js'
import { HttpError } from '../src/errors.js'
import { createMetrics, metrics } from '../src/metrics.js'
import { PeerClient, type PeerOptions } from '../src/peer-client.js'
import { createPeerClient, PeerSettings, peerOptions } from '../src/peer-settings.js'
import { buildService, type ServiceDefinition } from '../src/service.js'

/** Long enough that no pause of a busy machine ends it between two steps of a test. */
const COOLDOWN_MS = 1_000
const afterCooldown = () => new Promise((resolve) => setTimeout(resolve, COOLDOWN_MS + 50))

/** A client of the peer at `baseUrl`, closed when the test ends. */
function client(t: Test, baseUrl: string, overrides: Partial<PeerOptions> = {}) {
  const metrics = createMetrics()
  const peer = new PeerClient({
    name: 'movies',
    baseUrl,
    connectTimeoutMs: 500,
    responseTimeoutMs: 300,
    connections: 4,
    replicaRefreshMs: 5_000,
    breaker: { failureThreshold: 3, cooldownMs: COOLDOWN_MS },
    metrics,
    ...overrides,
  })
  t.teardown(() => peer.close())
  return { peer, metrics }
}

async function rejection(promise: Promise<unknown>): Promise<HttpError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof HttpError) return error
    throw error
  }
  throw new Error('expected a rejection')
}

t.test('answers: JSON bodies, 404 as undefined; no request id outside a request', async (t) => {
  const seenIds: (string | undefined)[] = []
  const { url, close } = await stub((req, res) => {
    seenIds.push(req.headers['x-request-id'] as string | undefined)
    if (req.url === '/movies/1') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"1"}')
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"statusCode":404}')
  })
  t.teardown(close)
  const { peer, metrics } = client(t, url)

  t.same(await peer.getJson('/movies/1'), { id: '1' })
  t.equal(await peer.getJson('/movies/2'), undefined)
  const answer = await peer.request({ path: '/movies/1' })
  t.match(answer, { statusCode: 200, body: { id: '1' } })
  t.equal(answer.headers['content-type'], 'application/json', 'with the headers it was answered with')
  t.same(seenIds, [undefined, undefined, undefined])
  const text = await metrics.registry.metrics()
  t.match(text, /peer_request_duration_seconds_count\{peer="movies",method="GET",outcome="success"\} 2/)
  t.match(text, /peer_request_duration_seconds_count\{peer="movies",method="GET",outcome="client_error"\} 1/)
})

t.test("each request's peer calls carry its id and token, also after reading a body; shared work none", async (t) => {
  const { url, close, requests } = await stub((_req, res) => {
    // Slow enough that the two requests below are in flight together.
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 50)
  })
  t.teardown(close)
  const Config = serviceConfigSchema(0, PeerSettings)
  const definition: ServiceDefinition<ReturnType<typeof loadConfig<typeof Config>>> = {
    name: 'caller',
    configSchema: Config,
    openapi: { title: 'Caller', description: 'calls a peer on behalf of its requests' },
    app: async (fastify, { config }) => {
      const peer = createPeerClient(fastify, peerOptions(config, 'movies', url))
      const Calls = Type.Object({ paths: Type.Array(Type.String()) })
      // Awaits between the calls, as domain code does: the caller, not an ambient store, holds the id.
      fastify.post('/calls', { schema: { body: Calls } }, async (request) => {
        const caller = peer.onBehalfOf(request)
        for (const path of request.body.paths) await caller.getJson(path)
        return {}
      })
      fastify.get('/shared', async () => {
        await peer.getJson('/shared')
        return {}
      })
    },
  }
  const app = await buildService(definition, loadConfig(Config, { LOG_LEVEL: 'silent' }))
  t.teardown(() => app.close())
  const base = await app.listen({ host: '127.0.0.1', port: 0 })

  // A peer checks the caller of the request it serves; the token is passed on as it came.
  const call = (id: string, init: RequestInit) =>
    fetch(`${base}${init.body ? '/calls' : '/shared'}`, {
      ...init,
      headers: { 'x-request-id': id, authorization: `Bearer ${id}.token.x`, ...init.headers },
    })
  const paths = (id: string) => JSON.stringify({ paths: [`/${id}/1`, `/${id}/2`] })
  const answers = await Promise.all([
    call('first', { method: 'POST', body: paths('first'), headers: { 'content-type': 'application/json' } }),
    call('second', { method: 'POST', body: paths('second'), headers: { 'content-type': 'application/json' } }),
    call('shared-trigger', {}),
  ])
  t.same(
    answers.map((answer) => answer.status),
    [200, 200, 200],
  )
  t.same(
    requests
      .filter((request) => request.url !== '/shared')
      .map((request) => [request.url, request.headers['x-request-id'], request.headers.authorization])
      .sort(),
    [
      ['/first/1', 'first', 'Bearer first.token.x'],
      ['/first/2', 'first', 'Bearer first.token.x'],
      ['/second/1', 'second', 'Bearer second.token.x'],
      ['/second/2', 'second', 'Bearer second.token.x'],
    ],
  )
  const shared = requests.find((request) => request.url === '/shared')
  t.equal(shared?.headers['x-request-id'], undefined, 'shared work: no id')
  t.equal(shared?.headers.authorization, undefined, 'shared work: no token')
})

t.test('a peer that is down gives 503 naming it, quickly', async (t) => {
  const { peer, metrics } = client(t, await deadUrl())
  const started = Date.now()
  const error = await rejection(peer.getJson('/movies'))
  t.equal(error.statusCode, 503)
  t.equal(error.message, 'movies service is unavailable')
  t.ok(error.expose, 'the message is meant for the client')
  t.ok(Date.now() - started < 1_000, 'no hang')
  t.match(await metrics.registry.metrics(), /outcome="unavailable"\} 1/)
})

t.test('a peer that is too slow gives 504 after the response timeout', async (t) => {
  const { url, close } = await stub((_req, res) => {
    setTimeout(() => res.end('{}'), 2_000).unref()
  })
  t.teardown(close)
  const { peer, metrics } = client(t, url)
  const started = Date.now()
  const error = await rejection(peer.getJson('/movies'))
  const elapsed = Date.now() - started
  t.equal(error.statusCode, 504)
  t.equal(error.message, 'movies service did not answer within 300 ms')
  // undici checks its response timeouts on a timer that ticks every 499 ms, so a 300 ms timeout
  // fires 0.5–1 s after the call began (seen: 550–1,000 ms); 2 s still tells it from no timeout.
  t.ok(elapsed >= 280 && elapsed < 2_000, `gave up after ${elapsed} ms`)
  t.match(await metrics.registry.metrics(), /outcome="timeout"\} 1/)
})

t.test('a 5xx answer from the peer is a 503 naming it', async (t) => {
  const { url, close } = await stub((_req, res) => res.writeHead(500).end('{"message":"db password wrong"}'))
  t.teardown(close)
  const { peer } = client(t, url)
  const error = await rejection(peer.getJson('/movies'))
  t.equal(error.statusCode, 503)
  t.equal(error.message, 'movies service is unavailable (it answered 500)')
})

t.test("a peer's 503 keeps its Retry-After, so a client shed by it is told when to come back", async (t) => {
  const { url, close } = await stub((req, res) =>
    req.url === '/shed'
      ? res.writeHead(503, { 'retry-after': '3' }).end('{}')
      : res.writeHead(500, { 'retry-after': '3' }).end('{}'),
  )
  t.teardown(close)
  const { peer } = client(t, url)
  const shed = await rejection(peer.getJson('/shed'))
  t.equal(shed.statusCode, 503)
  t.same(shed.headers, { 'retry-after': '3' })
  // Only a 503 is shedding load; a 500's header is no promise.
  t.equal((await rejection(peer.getJson('/broken'))).headers, undefined)
})

t.test('an idempotent call that failed to connect is retried once', async (t) => {
  let connections = 0
  const { server, url, close } = await stub((_req, res) => res.writeHead(200).end('{"ok":true}'))
  // The first connection is reset before any answer, as a restarting peer would do.
  server.prependListener('connection', (socket) => {
    connections += 1
    if (connections === 1) socket.destroy()
  })
  t.teardown(close)
  const { peer } = client(t, url)
  t.same(await peer.getJson('/movies'), { ok: true })
  t.equal(connections, 2)
})

t.test('POST is not retried', async (t) => {
  let connections = 0
  const { server, url, close } = await stub((_req, res) => res.writeHead(201).end('{}'))
  server.prependListener('connection', (socket) => {
    connections += 1
    socket.destroy()
  })
  t.teardown(close)
  const { peer } = client(t, url)
  const error = await rejection(peer.request({ method: 'POST', path: '/things', body: { a: 1 } }))
  t.equal(error.statusCode, 503)
  t.equal(connections, 1)
})

t.test('the circuit opens after repeated failures, fails fast, then probes and closes again', async (t) => {
  let requests = 0
  let healthy = false
  const { url, close } = await stub((_req, res) => {
    requests += 1
    res.writeHead(healthy ? 200 : 500).end('{}')
  })
  t.teardown(close)
  const { peer, metrics } = client(t, url)

  for (let i = 0; i < 3; i++) await rejection(peer.getJson('/movies'))
  t.equal(peer.circuit, 'open')
  const open = await rejection(peer.getJson('/movies'))
  t.equal(open.statusCode, 503)
  t.match(open.message, /^movies service is unavailable/)
  t.equal(requests, 3, 'the open circuit did not call the peer')
  t.match(await metrics.registry.metrics(), /outcome="circuit_open"\} 1/)

  await afterCooldown()
  t.equal(peer.circuit, 'half-open')
  healthy = true
  t.same(await peer.getJson('/movies'), {})
  t.equal(peer.circuit, 'closed')
  t.equal(requests, 4)
})

t.test("/metrics shows each peer's circuit: closed, open, half-open, closed again", async (t) => {
  let healthy = false
  const { url, close } = await stub((_req, res) => res.writeHead(healthy ? 200 : 500).end('{}'))
  const app = Fastify()
  await app.register(metrics)
  const peer = createPeerClient(
    app,
    peerOptions(
      {
        PEER_CONNECT_TIMEOUT_MS: 500,
        PEER_TIMEOUT_MS: 300,
        PEER_CONNECTIONS: 1,
        PEER_BREAKER_FAILURES: 2,
        PEER_BREAKER_COOLDOWN_MS: COOLDOWN_MS,
        REPLICA_REFRESH_MS: 5_000,
      },
      'movies',
      url,
    ),
  )
  t.teardown(async () => {
    await app.close()
    await close()
  })
  const circuit = async () =>
    /^peer_circuit_state\{peer="movies"\} (\d)$/m.exec((await app.inject('/metrics')).body)?.[1]

  t.equal(await circuit(), '0', 'closed from the start')
  await rejection(peer.getJson('/movies'))
  t.equal(await circuit(), '0', 'one failure: still closed')
  await rejection(peer.getJson('/movies'))
  t.equal(await circuit(), '2', 'open')
  await afterCooldown()
  t.equal(await circuit(), '1', 'half-open once the cooldown is over, before any call')
  await rejection(peer.getJson('/movies'))
  t.equal(await circuit(), '2', 'a failed probe reopens it')
  await afterCooldown()
  healthy = true
  await peer.getJson('/movies')
  t.equal(await circuit(), '0', 'a successful probe closes it')
})

t.test('a failing probe reopens the circuit', async (t) => {
  const { url, close } = await stub((_req, res) => res.writeHead(503).end('{}'))
  t.teardown(close)
  const { peer } = client(t, url)
  for (let i = 0; i < 3; i++) await rejection(peer.getJson('/movies'))
  await afterCooldown()
  await rejection(peer.getJson('/movies'))
  t.equal(peer.circuit, 'open')
})

t.test('4xx answers are the caller’s problem, never the peer’s: 20 of them leave the circuit closed', async (t) => {
  const refusals = [400, 404, 409, 422]
  let requests = 0
  const { url, close } = await stub((req, res) => {
    requests += 1
    const status =
      req.url === '/movies/good'
        ? 200
        : req.url === '/movies/bad'
          ? 400
          : (refusals[requests % refusals.length] as number)
    res.writeHead(status, { 'content-type': 'application/json' }).end('{"statusCode":400}')
  })
  t.teardown(close)
  const { peer, metrics } = client(t, url)

  for (let call = 0; call < 20; call++) {
    const response = await peer.request({ path: '/movies/a%00b' })
    t.ok(response.statusCode >= 400 && response.statusCode < 500, `answered ${response.statusCode}`)
    t.equal(peer.circuit, 'closed')
  }
  t.equal(requests, 20, 'every call reached the peer')
  const refused = await rejection(peer.getJson('/movies/bad'))
  t.equal(refused.statusCode, 502, 'getJson reports a refusal it did not expect, without blaming the peer')
  t.equal(peer.circuit, 'closed')
  t.same(await peer.getJson('/movies/good'), { statusCode: 400 })
  t.match(await metrics.registry.metrics(), /outcome="client_error"\} 21/)
})

t.test('without a breaker every call goes out, however many failed, and no circuit is reported', async (t) => {
  const { url, close } = await stub((_req, res) => res.writeHead(500).end('{}'))
  t.teardown(close)
  const { peer, metrics } = client(t, url, { breaker: null })
  for (let call = 0; call < 10; call++) {
    const error = await rejection(peer.getJson('/movies'))
    t.equal(error.message, 'movies service is unavailable (it answered 500)', 'the real answer, never "paused"')
  }
  t.equal(peer.circuit, 'closed')
  t.notMatch(await metrics.registry.metrics(), /peer_circuit_state\{/)
})
