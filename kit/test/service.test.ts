import { PassThrough } from 'node:stream'
import t from 'tap'
import { Type } from 'typebox'
import { Client } from 'undici'
import { ConfigError, loadConfig } from '../src/config.js'
import { ERROR_CODES, ErrorResponse, HttpError } from '../src/errors.js'
import { installed, loggerOptions } from '../src/logging.js'
import { REPLICA_CLOSING_HEADER } from '../src/replica-pool.js'
import { buildService, loadServiceConfig, pluginTimeoutOf, type ServiceDefinition } from '../src/service.js'
import { Config, SAMPLE } from './helpers/sample-service.js'

const definition: ServiceDefinition<Config> = {
  ...SAMPLE,
  app: async (fastify) => {
    let ready = true
    fastify.addReadinessCheck('switch', async () => {
      if (!ready) throw new Error('switched off')
    })
    fastify.post('/switch', { schema: { operationId: 'flip', response: { 204: Type.Null() } } }, async (_r, reply) => {
      ready = !ready
      return reply.code(204).send(null)
    })
    fastify.get('/boom', { schema: { operationId: 'boom', response: { 500: ErrorResponse } } }, async () => {
      throw new Error('password=hunter2 leaked from a driver')
    })
    fastify.get('/teapot', { schema: { operationId: 'teapot', response: { 418: ErrorResponse } } }, async () => {
      throw new HttpError(418, 'short and stout', { code: 'BAD_REQUEST' })
    })
    fastify.get('/outage', { schema: { operationId: 'outage', response: { 503: ErrorResponse } } }, async () => {
      throw new HttpError(503, 'movies service is unavailable', {
        code: 'PEER_UNAVAILABLE',
        service: 'movies',
        expose: true,
      })
    })
    fastify.get('/hidden', { schema: { operationId: 'hidden', response: { 502: ErrorResponse } } }, async () => {
      throw new HttpError(502, 'upstream said: internal table users_v2 missing', { code: 'PEER_BAD_ANSWER' })
    })
    fastify.post(
      '/things',
      {
        schema: {
          operationId: 'createThing',
          body: Type.Object(
            { name: Type.String({ minLength: 1 }), size: Type.Integer() },
            { additionalProperties: false },
          ),
          response: { 201: Type.Object({ name: Type.String() }), 400: ErrorResponse },
        },
      },
      async (request, reply) => reply.code(201).send({ name: request.body.name }),
    )
    fastify.get('/headers', { schema: { operationId: 'logHeaders' } }, async (request) => {
      request.log.info({ headers: request.headers }, 'headers seen')
      return {}
    })
  },
}

async function build(env: NodeJS.ProcessEnv = { LOG_LEVEL: 'trace' }) {
  const logs = new PassThrough()
  let text = ''
  logs.on('data', (chunk) => {
    text += chunk
  })
  const app = await buildService(definition, loadConfig(Config, env), { logStream: logs })
  const lines = () =>
    text
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
  return { app, lines }
}

t.test('errors are JSON and 5xx never leak internals', async (t) => {
  const { app } = await build()
  t.teardown(() => app.close())

  const boom = await app.inject('/boom')
  t.equal(boom.statusCode, 500)
  t.same(boom.json(), {
    statusCode: 500,
    error: 'Internal Server Error',
    message: 'Something went wrong on our side; it has been logged.',
    code: 'INTERNAL',
  })
  t.notMatch(boom.body, /hunter2/)

  const hidden = await app.inject('/hidden')
  t.same(hidden.json(), { statusCode: 502, error: 'Bad Gateway', message: 'Bad Gateway', code: 'PEER_BAD_ANSWER' })

  t.same((await app.inject('/teapot')).json(), {
    statusCode: 418,
    error: "I'm a Teapot",
    message: 'short and stout',
    code: 'BAD_REQUEST',
  })
  t.same((await app.inject('/outage')).json(), {
    statusCode: 503,
    error: 'Service Unavailable',
    message: 'movies service is unavailable',
    code: 'PEER_UNAVAILABLE',
    service: 'movies',
  })

  const missing = await app.inject('/nowhere?x=1')
  t.equal(missing.statusCode, 404)
  t.same(missing.json(), {
    statusCode: 404,
    error: 'Not Found',
    message: 'no route for GET /nowhere',
    code: 'NOT_FOUND',
  })
})

t.test('bad input gets a 400 that says what was wrong', async (t) => {
  const { app } = await build()
  t.teardown(() => app.close())
  const post = (payload: string) =>
    app.inject({ method: 'POST', url: '/things', payload, headers: { 'content-type': 'application/json' } })

  t.same((await post('{"name":"x","size":1}')).json(), { name: 'x' })

  const wrongType = await post('{"name":"x","size":"big"}')
  t.equal(wrongType.statusCode, 400)
  t.equal(wrongType.json().message, 'body/size must be integer')

  const extra = await post('{"name":"x","size":1,"colour":"red"}')
  t.equal(extra.json().message, 'body has unknown property "colour"')

  const missing = await post('{}')
  t.equal(missing.json().message, 'body must have required properties name, size')
  t.same(
    [wrongType, extra, missing].map((answer) => answer.json().code),
    Array(3).fill('VALIDATION_FAILED'),
  )

  const hugeName = await post(JSON.stringify({ name: 'x', size: 1, ['k'.repeat(1_000_000)]: 1 }))
  t.equal(hugeName.json().message, `body has unknown property "${'k'.repeat(64)}… (1000000 characters)"`)
  const manyNames = await post(JSON.stringify({ name: 'x', size: 1, a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7 }))
  t.equal(manyNames.json().message, 'body has unknown properties "a", "b", "c", "d", "e" and 2 more')

  const broken = await post('{"name":')
  t.equal(broken.statusCode, 400)
  t.match(broken.json(), { statusCode: 400, error: 'Bad Request', message: /JSON/, code: 'BAD_REQUEST' })
})

t.test('request ids: a well-formed incoming id is kept, anything else replaced; logged on every line', async (t) => {
  const { app, lines } = await build()
  t.teardown(() => app.close())

  const kept = await app.inject({ url: '/teapot', headers: { 'x-request-id': 'abc-123' } })
  t.equal(kept.headers['x-request-id'], 'abc-123')

  const replaced = await app.inject({ url: '/teapot', headers: { 'x-request-id': 'bad id\u0000<script>' } })
  t.match(replaced.headers['x-request-id'], /^[0-9a-f-]{36}$/)

  const generated = await app.inject('/teapot')
  t.match(generated.headers['x-request-id'], /^[0-9a-f-]{36}$/)

  const ofKept = lines().filter((line) => line.reqId === 'abc-123')
  t.ok(ofKept.length >= 1, 'the request has log lines')
  t.ok(
    ofKept.some((line) => line.msg === 'request completed' && line.statusCode === 418),
    'one access-log line with method, url, status and duration',
  )
})

t.test('logs are JSON with the service name, and secrets in headers are redacted', async (t) => {
  const { app, lines } = await build()
  t.teardown(() => app.close())
  await app.inject({ url: '/headers', headers: { authorization: 'Bearer s3cret', cookie: 'session=s3cret' } })
  const seen = lines().find((line) => line.msg === 'headers seen') as { headers: Record<string, string> }
  t.equal(seen.headers.authorization, '[redacted]')
  t.equal(seen.headers.cookie, '[redacted]')
  t.notOk(lines().some((line) => JSON.stringify(line).includes('s3cret')))
  t.ok(lines().every((line) => line.service === 'sample'))
})

t.test('probes: /livez always, /readyz follows the checks; neither is counted or logged at info', async (t) => {
  const { app, lines } = await build()
  t.same((await app.inject('/livez')).json(), { status: 'ok' })

  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ready', checks: { switch: 'ok', load: 'ok' } })

  await app.inject({ method: 'POST', url: '/switch' })
  const notReady = await app.inject('/readyz')
  t.equal(notReady.statusCode, 503)
  t.same(notReady.json(), { status: 'not ready', checks: { switch: 'switched off', load: 'ok' } })
  await app.inject({ method: 'POST', url: '/switch' })

  const metrics = (await app.inject('/metrics')).body
  t.notMatch(metrics, /route="\/(livez|readyz|metrics)"/)
  const probeLines = lines().filter((line) => /\/(livez|readyz|metrics)/.test(String(line.url)))
  t.ok(probeLines.length > 0 && probeLines.every((line) => line.level === 10), 'probe lines are trace only')
  await app.close()
})

t.test('metrics: RED histogram by method, route pattern and status, plus process metrics', async (t) => {
  const { app } = await build()
  t.teardown(() => app.close())
  await app.inject('/teapot')
  await app.inject('/teapot')
  await app.inject('/nowhere')
  const response = await app.inject('/metrics')
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /text\/plain/)
  t.match(response.body, /http_request_duration_seconds_count\{method="GET",route="\/teapot",status_code="418"\} 2/)
  t.match(response.body, /http_request_duration_seconds_count\{method="GET",route="unmatched",status_code="404"\} 1/)
  t.match(response.body, /process_resident_memory_bytes/)
  t.match(response.body, /nodejs_eventloop_lag_seconds/)
})

t.test('OpenAPI: every route is documented with an operationId', async (t) => {
  const { app } = await build()
  t.teardown(() => app.close())
  const document = (await app.inject('/openapi.json')).json()
  t.equal(document.info.title, 'Sample')
  const operations = Object.values<Record<string, { operationId?: string }>>(document.paths).flatMap((path) =>
    Object.values(path),
  )
  t.ok(operations.length >= 9)
  t.ok(operations.every((operation) => typeof operation.operationId === 'string'))
  t.ok(document.paths['/readyz'].get.responses['503'], 'readiness documents its 503')
  const outage = document.paths['/outage'].get.responses['503'].content['application/json'].schema
  t.same(outage.properties.code.enum, ERROR_CODES, 'an error documents every code it may carry')
  t.same(outage.required.sort(), ['code', 'error', 'message', 'statusCode'], 'and `service` only when one is to blame')
})

t.test('pretty log output only for a terminal', async (t) => {
  t.notOk(loggerOptions('sample', 'info', false).transport, 'JSON lines when stdout is a pipe or a file')
  t.match(loggerOptions('sample', 'info', true).transport, { target: 'pino-pretty' })
  t.ok(installed('pino-pretty'), 'pino-pretty is found where it is installed (npm install)')
  t.notOk(installed('pino-pretty-is-not-installed'), 'and a package that is not installed is not: the images log JSON')
  t.equal(loggerOptions('sample', 'debug', false).level, 'debug', 'LOG_LEVEL is the level')
})

t.test(
  'access lines: one per request at ACCESS_LOG_LEVEL (debug by default), none at the default LOG_LEVEL',
  async (t) => {
    const quiet = await build({})
    t.teardown(() => quiet.app.close())
    await quiet.app.inject('/teapot')
    t.notOk(
      quiet.lines().some((line) => line.msg === 'request completed'),
      'nothing per request at LOG_LEVEL=info',
    )

    const loud = await build({ ACCESS_LOG_LEVEL: 'info' })
    t.teardown(() => loud.app.close())
    await loud.app.inject({ url: '/teapot?x=1', headers: { 'x-request-id': 'seen' } })
    await loud.app.inject('/livez')
    const access = loud.lines().filter((line) => line.msg === 'request completed')
    t.equal(access.length, 1, 'one line, and none for the probe')
    t.match(access[0], { level: 30, reqId: 'seen', method: 'GET', url: '/teapot?x=1', statusCode: 418 })
    t.type(access[0]?.durationMs, 'number')
  },
)

t.test(
  'an overloaded process answers 503 with Retry-After; /readyz says not ready, /livez still answers',
  async (t) => {
    const { app } = await build({ LOG_LEVEL: 'silent', OVERLOAD_EVENT_LOOP_DELAY_MS: '50' })
    t.teardown(() => app.close())
    const readiness = async (expected: number) => {
      // The load is measured once a second.
      for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
        const response = await app.inject('/readyz')
        if (response.statusCode === expected) return response
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      throw new Error(`/readyz did not answer ${expected} within 5 s`)
    }
    t.equal((await app.inject('/teapot')).statusCode, 418)
    await readiness(200)

    // The event loop lags by 100 ms at every turn until the checks below are done, as under a load
    // the process cannot keep up with. (One long stall would be averaged with the idle turns of its
    // second, and found or not by where in that second it fell.)
    const lagging = setInterval(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100), 1)
    t.teardown(() => clearInterval(lagging))
    const notReady = await readiness(503)
    t.same(notReady.json(), {
      status: 'not ready',
      checks: { switch: 'ok', load: 'overloaded: new requests are answered 503' },
    })
    const shed = await app.inject('/teapot')
    t.equal(shed.statusCode, 503)
    t.equal(shed.headers['retry-after'], '10')
    t.same(shed.json(), {
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'the sample service is overloaded; try again in 10 s',
      code: 'OVERLOADED',
      service: 'sample',
    })
    t.equal((await app.inject('/livez')).statusCode, 200, '/livez is not shed')

    clearInterval(lagging)
    await readiness(200)
    t.equal((await app.inject('/teapot')).statusCode, 418, 'back to work once the event loop keeps up')
  },
)

t.test(
  "a service's settings come from its definition's schema: defaults, conversion, one error naming the bad ones",
  async (t) => {
    const config = loadServiceConfig(definition, { PORT: '5101', LOG_LEVEL: 'warn' })
    t.match(config, { PORT: 5101, LOG_LEVEL: 'warn', HOST: '127.0.0.1', SHUTDOWN_GRACE_MS: 10_000 })
    t.throws(() => loadServiceConfig(definition, { PORT: 'eighty', LOG_LEVEL: 'loud' }), ConfigError)
    t.throws(() => loadServiceConfig(definition, { PORT: 'eighty' }), /PORT/)
  },
)

t.test('the plugin timeout follows DATABASE_STARTUP_TIMEOUT_MS and always exceeds it', async (t) => {
  const base = loadConfig(Config, {})
  t.equal(pluginTimeoutOf(base), 10_000, 'no database: Fastify’s default')
  for (const startup of [0, 30_000, 120_000]) {
    const timeout = pluginTimeoutOf({ ...base, DATABASE_STARTUP_TIMEOUT_MS: startup })
    t.ok(timeout > startup + 10_000, `${startup} ms → ${timeout} ms`)
  }
  const app = await buildService(definition, { ...base, LOG_LEVEL: 'silent', DATABASE_STARTUP_TIMEOUT_MS: 45_000 })
  t.teardown(() => app.close())
  t.equal(app.initialConfig.pluginTimeout, pluginTimeoutOf({ ...base, DATABASE_STARTUP_TIMEOUT_MS: 45_000 }))
})

t.test('metrics on a port of their own: only /metrics there, none on the app port', async (t) => {
  const app = await buildService(
    { ...definition, metricsServer: () => ({ host: '127.0.0.1', port: 0 }) },
    loadConfig(Config, { LOG_LEVEL: 'silent' }),
  )
  t.teardown(() => app.close())
  await app.inject('/teapot')
  t.equal((await app.inject('/metrics')).statusCode, 404, 'not on the app port')
  const metricsServer = app.metricsServer
  if (!metricsServer) throw new Error('no metrics server')
  const scraped = await metricsServer.inject('/metrics')
  t.equal(scraped.statusCode, 200)
  t.match(scraped.body, /http_request_duration_seconds_count\{method="GET",route="\/teapot",status_code="418"\} 1/)
  t.same((await metricsServer.inject('/teapot')).json(), {
    statusCode: 404,
    error: 'Not Found',
    message: 'no route for GET /teapot',
    code: 'NOT_FOUND',
  })
  const plain = await build()
  t.teardown(() => plain.app.close())
  t.equal(plain.app.metricsServer, null, 'by default /metrics is on the app port')
})

t.test(
  'while it closes, a request on an open connection gets a 503 marked for callers to send elsewhere',
  async (t) => {
    let markArrived = () => {}
    const arrived = new Promise<void>((resolve) => {
      markArrived = resolve
    })
    const slow: ServiceDefinition<Config> = {
      ...SAMPLE,
      app: async (fastify) => {
        fastify.get('/slow', { schema: { operationId: 'slow' } }, async () => {
          markArrived()
          await new Promise((resolve) => setTimeout(resolve, 300))
          return { done: true }
        })
      },
    }
    const app = await buildService(slow, loadConfig(Config, { LOG_LEVEL: 'silent' }))
    const url = await app.listen({ host: '127.0.0.1', port: 0 })
    // One keep-alive connection: the second request waits for the first, then meets the closing service.
    const client = new Client(url)
    t.teardown(() => client.close())
    const inFlight = client.request({ method: 'GET', path: '/slow' })
    await arrived
    const closed = app.close()
    // /readyz: a route whose own 503 has another shape.
    const late = await client.request({ method: 'GET', path: '/readyz' })
    const first = await inFlight
    t.equal(first.statusCode, 200, 'the request in flight finishes')
    t.same(await first.body.json(), { done: true })
    t.equal(late.statusCode, 503)
    t.equal(late.headers[REPLICA_CLOSING_HEADER], '1', 'marked: nothing was done, send it elsewhere')
    t.equal(late.headers.connection, 'close')
    t.same(await late.body.json(), {
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'the sample service is shutting down; try again',
      code: 'PEER_UNAVAILABLE',
      service: 'sample',
    })
    await closed
  },
)
