// Generated bad input at every route of every service and of the gateway (as each service's
// OpenAPI document lists them): never a 5xx, every 4xx is JSON saying what was wrong, and nothing
// is written.
import fc from 'fast-check'
import t from 'tap'
import { request } from 'undici'
import { startSystem } from '../helpers/system.js'

interface Operation {
  method: string
  path: string
  operationId?: string
}

const RUNS_PER_TARGET = Number(process.env.FUZZ_RUNS ?? 150)

async function operationsOf(baseUrl: string, documentPath = '/openapi.json'): Promise<Operation[]> {
  const document = (await (await fetch(`${baseUrl}${documentPath}`)).json()) as {
    paths: Record<string, Record<string, { operationId?: string }>>
  }
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      operationId: operation.operationId,
    })),
  )
}

const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '..',
    '%',
    '%zz',
    '%00',
    '%E0%A4%A',
    '../../etc/passwd',
    '{}',
    'null',
    '__proto__',
    'constructor',
  ),
  fc.constantFrom('20151201', '2015-12-01', '99999999', '-1', '1e9', '0x10', 'NaN', 'x'.repeat(5_000)),
  fc.integer().map(String),
)

const segment = nasty.map((value) => encodeURIComponent(value))

const query = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom('limit', 'id', 'date'), fc.string({ maxLength: 10 })), nasty), {
    maxLength: 4,
  })
  .map((pairs) => (pairs.length ? `?${new URLSearchParams(pairs).toString()}` : ''))

const headerValue = fc.string({ maxLength: 60 }).filter((value) => /^[\t\x20-\x7e]*$/.test(value))
const headers = fc.record(
  {
    'content-type': fc.oneof(
      fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/xml'),
      headerValue,
    ),
    'x-request-id': headerValue,
    accept: headerValue,
    'x-forwarded-for': headerValue,
  },
  { requiredKeys: [] },
)

const body = fc.oneof(
  fc.constant(undefined),
  fc.json(),
  fc.string(),
  fc.constantFrom('{', '{"id":', '[]', 'null', '{"id":"","name":""}', '{"name":7}', '{"__proto__":{"x":1}}'),
  fc.record({ id: nasty, name: nasty }, { requiredKeys: [] }).map((value) => JSON.stringify(value)),
)

const WRITES = new Set(['PUT', 'POST', 'PATCH', 'DELETE'])

t.test('fuzzing every route', async (t) => {
  const system = await startSystem()
  t.teardown(() => system.close())
  const snapshot = async () =>
    Promise.all(['/users', '/bookings'].map(async (path) => (await fetch(`${system.url('gateway')}${path}`)).text()))
  const before = await snapshot()

  const targets = ['users', 'movies', 'showtimes', 'bookings', 'gateway'].map((name) => ({
    name,
    url: system.url(name),
  }))
  let requests = 0
  for (const target of targets) {
    const operations = await operationsOf(target.url)
    // Through the gateway, every service's routes too, as the gateway's /docs lists them.
    if (target.name === 'gateway') {
      for (const service of ['users', 'movies', 'showtimes', 'bookings']) {
        operations.push(...(await operationsOf(target.url, `/docs/services/${service}.json`)))
      }
    }
    t.ok(operations.length >= 3, `${target.name}: ${operations.length} operations`)
    t.same(
      operations.filter((operation) => !operation.operationId),
      [],
      `${target.name}: every operation of its OpenAPI document has an operationId`,
    )

    const failures: string[] = []
    await fc
      .assert(
        fc.asyncProperty(
          fc.constantFrom(...operations),
          fc.array(segment, { minLength: 3, maxLength: 3 }),
          query,
          headers,
          body,
          async (operation, values, search, sentHeaders, payload) => {
            let index = 0
            const path = operation.path.replace(/\{[^}]+\}/g, () => values[index++] ?? '')
            const response = await request(`${target.url}${path}${search}`, {
              method: operation.method as 'GET',
              headers: sentHeaders,
              body: ['GET', 'HEAD'].includes(operation.method) ? undefined : payload,
            })
            const text = await response.body.text()
            requests += 1
            const where = `${operation.method} ${path}${search} → ${response.statusCode}`
            if (response.statusCode >= 500) failures.push(`${where}: ${text.slice(0, 200)}`)
            if (WRITES.has(operation.method) && response.statusCode < 300)
              failures.push(`${where}: a write went through`)
            if (response.statusCode >= 400 && operation.method !== 'HEAD') {
              const contentType = String(response.headers['content-type'])
              let error: { statusCode?: unknown; error?: unknown; message?: unknown } = {}
              try {
                error = JSON.parse(text)
              } catch {
                failures.push(`${where}: not JSON (${contentType}): ${text.slice(0, 100)}`)
              }
              if (
                !contentType.startsWith('application/json') ||
                error.statusCode !== response.statusCode ||
                typeof error.error !== 'string' ||
                typeof error.message !== 'string' ||
                error.message.length === 0
              ) {
                failures.push(`${where}: not a JSON error with a message: ${text.slice(0, 100)}`)
              }
            }
            return failures.length === 0
          },
        ),
        { numRuns: RUNS_PER_TARGET, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
      )
      .catch((error: unknown) => {
        failures.push(String(error).split('\n').slice(0, 6).join('\n'))
      })
    t.same(failures, [], `${target.name}: no 5xx, every 4xx a JSON error, no write`)
  }

  t.same(await snapshot(), before, 'users and bookings unchanged')
  t.comment(`${requests} generated requests`)
})
