// Slow and idle clients against a real server: each deadline closes their connection, the cap
// refuses connections beyond it, and everyone else is served meanwhile.
import t, { type Test } from 'tap'
import { Type } from 'typebox'
import { eventually } from '../../test/helpers/eventually.js'
import { KeepAliveConnection, trickle } from '../../test/helpers/slow-client.js'
import { loadConfig } from '../src/config.js'
import { clientOf } from '../src/connection-limits.js'
import { buildService, type ServiceDefinition } from '../src/service.js'
import { Config, SAMPLE } from './helpers/sample-service.js'

const definition: ServiceDefinition<Config> = {
  ...SAMPLE,
  app: async (fastify) => {
    fastify.post(
      '/things',
      { schema: { operationId: 'createThing', body: Type.Object({}), response: { 204: Type.Null() } } },
      async (_request, reply) => reply.code(204).send(null),
    )
  },
}

async function serve(t: Test, env: NodeJS.ProcessEnv) {
  const app = await buildService(definition, loadConfig(Config, { LOG_LEVEL: 'silent', ...env }))
  t.teardown(() => app.close())
  return app.listen({ host: '127.0.0.1', port: 0 })
}

const POST_HEAD =
  'POST /things HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n'

/** Times of `count` GETs made one after another while something else goes on. */
async function servedMeanwhile(url: string, count: number, pauseMs: number): Promise<number[]> {
  const times: number[] = []
  for (let index = 0; index < count; index++) {
    const started = performance.now()
    const response = await fetch(`${url}/livez`)
    await response.arrayBuffer()
    if (response.ok) times.push(performance.now() - started)
    await new Promise((resolve) => setTimeout(resolve, pauseMs))
  }
  return times
}

t.test('a body sent a byte at a time is cut off at REQUEST_TIMEOUT_MS; others are served meanwhile', async (t) => {
  const url = await serve(t, { REQUEST_TIMEOUT_MS: '1500', HEADERS_TIMEOUT_MS: '1000' })
  const [slow, others] = await Promise.all([
    trickle(url, { head: POST_HEAD, everyMs: 200, giveUpMs: 15_000 }),
    servedMeanwhile(url, 10, 100),
  ])
  t.comment(`a byte every 200 ms: cut off after ${Math.round(slow.heldMs)} ms, ${slow.bytesSent} body bytes`)
  // Node checks the deadlines once a second (the kit's connectionsCheckingInterval).
  t.ok(slow.heldMs >= 1_400 && slow.heldMs < 3_500, `held ${Math.round(slow.heldMs)} ms`)
  t.match(slow.answer, /^HTTP\/1\.1 408/, 'told 408 Request Timeout')
  t.equal(others.length, 10, 'every other request answered')
  t.ok(Math.max(...others) < 1_000, `the others took at most ${Math.round(Math.max(...others))} ms`)
})

t.test('headers sent a byte at a time are cut off at HEADERS_TIMEOUT_MS', async (t) => {
  const url = await serve(t, { REQUEST_TIMEOUT_MS: '5000', HEADERS_TIMEOUT_MS: '1000' })
  const slow = await trickle(url, { head: POST_HEAD, everyMs: 100, giveUpMs: 15_000, headersToo: true })
  t.comment(`headers a byte every 100 ms: cut off after ${Math.round(slow.heldMs)} ms`)
  t.ok(slow.heldMs >= 900 && slow.heldMs < 3_000, `held ${Math.round(slow.heldMs)} ms`)
})

t.test('an idle keep-alive connection is closed after KEEP_ALIVE_TIMEOUT_MS', async (t) => {
  const url = await serve(t, { KEEP_ALIVE_TIMEOUT_MS: '500' })
  const connection = await KeepAliveConnection.open(url)
  t.teardown(() => connection.close())
  t.equal(await connection.get('/livez'), 200)
  const idleFrom = performance.now()
  await Promise.race([connection.closed, new Promise((resolve) => setTimeout(resolve, 5_000))])
  const idleMs = performance.now() - idleFrom
  // Seen closing 1.5 s after the answer, not 0.5 s (Node's keep-alive timer adds a second of
  // slack); under 3 s still tells closing from never closing (the wait gives up at 5 s).
  t.ok(idleMs >= 400 && idleMs < 3_000, `closed after ${Math.round(idleMs)} ms idle`)
})

t.test('a connection silent for CONNECTION_TIMEOUT_MS is closed', async (t) => {
  const url = await serve(t, { CONNECTION_TIMEOUT_MS: '500', REQUEST_TIMEOUT_MS: '60000' })
  // Headers complete, body promised and never sent: only the inactivity deadline applies.
  const silent = await trickle(url, { head: POST_HEAD, everyMs: 60_000, giveUpMs: 15_000 })
  t.ok(silent.heldMs >= 400 && silent.heldMs < 2_000, `closed after ${Math.round(silent.heldMs)} ms`)
})

t.test('MAX_CONNECTIONS: connections beyond it are closed at once; those open keep working', async (t) => {
  const url = await serve(t, { MAX_CONNECTIONS: '5', KEEP_ALIVE_TIMEOUT_MS: '60000' })
  const open = await Promise.all(Array.from({ length: 5 }, () => KeepAliveConnection.open(url)))
  t.teardown(() => {
    for (const connection of open) connection.close()
  })
  t.same(await Promise.all(open.map((connection) => connection.get('/livez'))), [200, 200, 200, 200, 200])

  const refused = await KeepAliveConnection.open(url)
  t.equal(await refused.get('/livez'), null, 'the sixth connection is closed without an answer')
  t.same(
    await Promise.all(open.map((connection) => connection.get('/livez'))),
    [200, 200, 200, 200, 200],
    'the five open ones are still served',
  )

  open.pop()?.close()
  await new Promise((resolve) => setTimeout(resolve, 100))
  const next = await KeepAliveConnection.open(url)
  t.teardown(() => next.close())
  t.equal(await next.get('/livez'), 200, 'once one closes, a new connection is taken')
})

t.test(
  'MAX_CONNECTIONS_PER_CLIENT: one client’s connections beyond it are closed at once; others are served',
  async (t) => {
    const url = await serve(t, { MAX_CONNECTIONS_PER_CLIENT: '5', KEEP_ALIVE_TIMEOUT_MS: '60000' })
    // On Linux every 127.x.y.z is this machine: each local address is a client of its own.
    const open = await Promise.all(Array.from({ length: 5 }, () => KeepAliveConnection.open(url, '127.0.0.2')))
    t.teardown(() => {
      for (const connection of open) connection.close()
    })
    t.same(await Promise.all(open.map((connection) => connection.get('/livez'))), [200, 200, 200, 200, 200])

    const sixth = await KeepAliveConnection.open(url, '127.0.0.2')
    t.teardown(() => sixth.close())
    t.equal(await sixth.get('/livez'), null, 'the sixth from that client is closed without an answer')
    const other = await KeepAliveConnection.open(url, '127.0.0.3')
    t.teardown(() => other.close())
    t.equal(await other.get('/livez'), 200, 'another client is served')

    const closing = open.pop()
    closing?.close()
    await closing?.closed
    // The server counts it gone on its own 'close', a moment after the client's.
    const next = await eventually(
      async () => {
        const connection = await KeepAliveConnection.open(url, '127.0.0.2')
        const status = await connection.get('/livez')
        connection.close()
        return status
      },
      (status) => status === 200,
    )
    t.equal(next, 200, 'once one of its connections closes, the client may open another')
  },
)

t.test('MAX_CONNECTIONS_PER_CLIENT is off unless set: services behind the gateway see it as one client', async (t) => {
  t.equal(loadConfig(Config, {}).MAX_CONNECTIONS_PER_CLIENT, 0)
  const url = await serve(t, { KEEP_ALIVE_TIMEOUT_MS: '60000' })
  const many = await Promise.all(Array.from({ length: 100 }, () => KeepAliveConnection.open(url, '127.0.0.2')))
  t.teardown(() => {
    for (const connection of many) connection.close()
  })
  const statuses = await Promise.all(many.map((connection) => connection.get('/livez')))
  t.equal(statuses.filter((status) => status === 200).length, 100, 'a hundred from one address all served')
})

t.test('an IPv6 client is counted by its /64, as one host is given a whole /64', async (t) => {
  t.equal(clientOf('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64')
  t.equal(clientOf('2001:db8:1:2::9'), '2001:db8:1:2::/64')
  t.equal(clientOf('2001:0db8:0001:0002:ffff::1%eth0'), '2001:db8:1:2::/64')
  t.equal(clientOf('2001:db8::1'), '2001:db8:0:0::/64')
  t.equal(clientOf('::1'), '0:0:0:0::/64')
  t.equal(clientOf('192.0.2.7'), '192.0.2.7')
  t.equal(clientOf('::ffff:192.0.2.7'), '::ffff:192.0.2.7')
})
