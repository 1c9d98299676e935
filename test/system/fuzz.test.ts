// Generated bad input at every route of every service and of the gateway (as each service's
// OpenAPI document lists them), on PGlite and on PostgreSQL: never a 5xx, every 4xx is JSON saying
// what was wrong, and nothing is written. The input includes names of Object.prototype members,
// NUL and other control characters, lone surrogates, deeply nested JSON, huge key counts and odd
// headers (Expect, two Hosts, bogus Transfer-Encoding, huge headers), the last sent over raw TCP.
import { once } from 'node:events'
import { connect } from 'node:net'
import { ERROR_CODES, type ErrorCode } from '@cinema/kit'
import fc from 'fast-check'
import t, { type Test } from 'tap'
import { request } from 'undici'
import { bearer, DEMO_ADMIN, signIn } from '../helpers/auth.js'
import { startPostgres } from '../helpers/postgres.js'
import { type RunningSystem, startSystem } from '../helpers/system.js'

const RUNS_PER_TARGET = Number(process.env.FUZZ_RUNS ?? 150)
// The same cases against PostgreSQL, fewer of them: what differs there is only the database.
const RUNS_ON_POSTGRES = Number(process.env.FUZZ_RUNS_POSTGRES ?? 40)
// Twice the time of the PGlite and PostgreSQL systems' start, plus the generated requests.
t.setTimeout(300_000)

const PROTOTYPE_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  '__defineGetter__',
]
const controlCharacter = fc.oneof(
  fc.integer({ min: 0, max: 0x1f }).map((code) => String.fromCharCode(code)),
  fc.constantFrom('\u007f', '\u0085', '\u2028', '\u200b', '\ufeff'),
)
const withControl = fc
  .tuple(fc.string({ maxLength: 6 }), controlCharacter, fc.string({ maxLength: 6 }))
  .map((parts) => parts.join(''))
const loneSurrogate = fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff', 'a\ud800b', 'x\udfffy')

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
  fc.constantFrom('', ' ', '..', '%', '%zz', '%00', '%E0%A4%A', '../../etc/passwd', '{}', 'null', 'a\u0000b'),
  fc.constantFrom(...PROTOTYPE_NAMES),
  withControl,
  loneSurrogate,
  fc.constantFrom('20151201', '2015-12-01', '99999999', '-1', '1e9', '0x10', 'NaN', 'x'.repeat(5_000)),
  fc.integer().map(String),
)

/** encodeURIComponent, except that a lone surrogate is sent as the bytes UTF-8 would give it (which it refuses). */
function encodeSegment(value: string): string {
  return Array.from(value, (character) => {
    const code = character.charCodeAt(0)
    if (code < 0xd800 || code > 0xdfff) return encodeURIComponent(character)
    return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
      .map((byte) => `%${byte.toString(16).toUpperCase()}`)
      .join('')
  }).join('')
}

const segment = nasty.map(encodeSegment)

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

/** `{"k0":0,…}` of about `bytes` bytes. */
function manyKeys(bytes: number): string {
  const parts: string[] = []
  for (let index = 0, length = 2; length < bytes; index++) {
    parts.push(`"k${index}":${index}`)
    length += (parts.at(-1)?.length ?? 0) + 1
  }
  return `{${parts.join(',')}}`
}
const MANY_KEYS = manyKeys(1_000_000)

const body = fc.oneof(
  fc.constant(undefined),
  fc.json(),
  fc.string(),
  fc.constantFrom('{', '{"id":', '[]', 'null', '{"id":"","name":""}', '{"name":7}', '{"__proto__":{"x":1}}'),
  fc.record({ id: nasty, name: nasty }, { requiredKeys: [] }).map((value) => JSON.stringify(value)),
  // Object.prototype's names as keys.
  fc
    .record({ key: fc.constantFrom(...PROTOTYPE_NAMES), value: fc.json() })
    .map(({ key, value }) => `{"id":"x","name":"y","${key}":${value}}`),
  fc.constantFrom('{"constructor":{"prototype":{"admin":true}}}', '{"id":"a","name":"b","__proto__":null}'),
  // A lone surrogate as raw UTF-8 bytes, which no JavaScript string can carry.
  fc.constantFrom(
    Buffer.concat([Buffer.from('{"id":"a'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('","name":"b"}')]),
    Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xed, 0xbf, 0xbf]), Buffer.from('"}')]),
  ),
  // Deeply nested, and a great many keys or items.
  fc.constantFrom(
    '['.repeat(100_000),
    `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
    `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`,
    `{"id":"x","name":${'['.repeat(64)}${']'.repeat(64)}}`,
    `[${'0,'.repeat(100_000)}0]`,
    MANY_KEYS,
  ),
)

const WRITES = new Set(['PUT', 'POST', 'PATCH', 'DELETE'])

interface Answer {
  statusCode: number
  contentType: string
  text: string
}

/** What is wrong with an answer: a 5xx, a write that went through, a 4xx that is not a JSON error. */
function problemsOf(where: string, method: string, answer: Answer): string[] {
  const problems: string[] = []
  const { statusCode, contentType, text } = answer
  if (statusCode >= 500) problems.push(`${where}: ${text.slice(0, 200)}`)
  if (WRITES.has(method) && statusCode < 300) problems.push(`${where}: a write went through`)
  if (statusCode >= 400 && method !== 'HEAD') {
    let error: { statusCode?: unknown; error?: unknown; message?: unknown; code?: unknown } = {}
    try {
      error = JSON.parse(text)
    } catch {
      problems.push(`${where}: not JSON (${contentType}): ${text.slice(0, 100)}`)
    }
    if (
      !contentType.startsWith('application/json') ||
      error.statusCode !== statusCode ||
      typeof error.error !== 'string' ||
      typeof error.message !== 'string' ||
      error.message.length === 0
    ) {
      problems.push(`${where}: not a JSON error with a message: ${text.slice(0, 100)}`)
    }
    if (!ERROR_CODES.includes(error.code as ErrorCode)) {
      problems.push(`${where}: no code from the declared list: ${text.slice(0, 100)}`)
    }
  }
  return problems
}

/** Whether an answer refuses the caller (no valid token, or not theirs to change). */
function refusesCaller(answer: Answer): boolean {
  try {
    const { code } = JSON.parse(answer.text) as { code?: unknown }
    return code === 'UNAUTHENTICATED' || code === 'FORBIDDEN'
  } catch {
    return false
  }
}

/** One request over its own TCP connection, written as given: for headers no HTTP client sends. */
async function rawRequest(url: string, head: string, body: Buffer): Promise<Answer> {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  await once(socket, 'connect')
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  socket.on('error', () => {})
  // Not ended: a server may take a half-closed connection for a client gone. Connection: close ends it.
  socket.write(Buffer.concat([Buffer.from(head), body]))
  await Promise.race([once(socket, 'close'), new Promise((resolve) => setTimeout(resolve, 10_000))])
  socket.destroy()
  let rest = Buffer.concat(chunks).toString('latin1')
  // Interim answers (100 Continue) come first; the final one is what counts.
  while (/^HTTP\/1\.1 1\d\d /.test(rest)) rest = rest.slice(rest.indexOf('\r\n\r\n') + 4)
  const end = rest.indexOf('\r\n\r\n')
  const headers = rest.slice(0, end)
  let text = rest.slice(end + 4)
  const length = /\r\ncontent-length: (\d+)/i.exec(headers)?.[1]
  // Only the first answer: a server may answer what it read after the request as a second one.
  if (length !== undefined) text = text.slice(0, Number(length))
  else if (/\r\ntransfer-encoding: chunked/i.test(headers)) {
    let decoded = ''
    for (let size = Number.parseInt(text, 16); size > 0; size = Number.parseInt(text, 16)) {
      const start = text.indexOf('\r\n') + 2
      decoded += text.slice(start, start + size)
      text = text.slice(start + size + 2)
    }
    text = decoded
  }
  return {
    statusCode: Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1] ?? 0),
    contentType: /\r\ncontent-type: ([^\r]*)/i.exec(headers)?.[1] ?? '',
    text: Buffer.from(text, 'latin1').toString('utf8'),
  }
}

// Headers no well-behaved client sends. `twoHosts` must be refused (400); the rest must not be 5xx.
const oddHeaders = fc.constantFrom(
  { name: 'expect', lines: ['Expect: 100-continue'], twoHosts: false },
  { name: 'two hosts', lines: ['Host: evil.example'], twoHosts: true },
  { name: 'bogus transfer-encoding', lines: ['Transfer-Encoding: xchunked'], twoHosts: false },
  { name: 'transfer-encoding list', lines: ['Transfer-Encoding: gzip, chunked'], twoHosts: false },
  { name: 'transfer-encoding and length', lines: ['Transfer-Encoding: chunked', 'Content-Length: 3'], twoHosts: false },
  { name: 'huge header', lines: [`X-Padding: ${'a'.repeat(20_000)}`], twoHosts: false },
  { name: 'many headers', lines: Array.from({ length: 500 }, (_, index) => `X-H${index}: ${index}`), twoHosts: false },
  { name: 'NUL in a header', lines: ['X-Request-Id: a\u0000b'], twoHosts: false },
)

interface Operation {
  method: string
  path: string
  operationId?: string
}

/**
 * Who the generated requests are sent as: mostly an admin, whose writes pass every check of who
 * may write and so reach what each handler does with the input; sometimes a customer (own data
 * only); sometimes nobody.
 */
async function callers(system: RunningSystem) {
  const admin = bearer(await signIn(system.url('users'), DEMO_ADMIN))
  const customer = bearer(await signIn(system.url('users'), 'jim_halpert'))
  return {
    admin,
    any: fc.oneof(
      { weight: 4, arbitrary: fc.constant(admin) },
      { weight: 1, arbitrary: fc.constant(customer) },
      { weight: 1, arbitrary: fc.constant({}) },
    ),
  }
}

async function operationsOfTarget(name: string, url: string): Promise<Operation[]> {
  const operations = await operationsOf(url)
  // Through the gateway, every service's routes too, as the gateway's /docs lists them.
  if (name === 'gateway') {
    for (const service of ['users', 'movies', 'showtimes', 'bookings']) {
      operations.push(...(await operationsOf(url, `/docs/services/${service}.json`)))
    }
  }
  return operations
}

const fillPath = (operation: Operation, values: string[]) => {
  let index = 0
  return operation.path.replace(/\{[^}]+\}/g, () => values[index++] ?? '')
}

/** Every route of every service and of the gateway: generated paths, queries, headers and bodies. */
async function fuzzEveryRoute(t: Test, system: RunningSystem, runs: number) {
  const snapshot = async () =>
    Promise.all(['/users', '/bookings'].map(async (path) => (await fetch(`${system.url('gateway')}${path}`)).text()))
  const before = await snapshot()
  const as = await callers(system)

  let requests = 0
  // Writes sent as the admin: each must get past the check of who may write, to what the handler does with it.
  let adminWrites = 0
  for (const name of ['users', 'movies', 'showtimes', 'bookings', 'gateway']) {
    const url = system.url(name)
    const operations = await operationsOfTarget(name, url)
    t.ok(operations.length >= 3, `${name}: ${operations.length} operations`)
    t.same(
      operations.filter((operation) => !operation.operationId),
      [],
      `${name}: every operation of its OpenAPI document has an operationId`,
    )
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31)

    const failures: string[] = []
    await fc
      .assert(
        fc.asyncProperty(
          fc.constantFrom(...operations),
          fc.array(segment, { minLength: 3, maxLength: 3 }),
          query,
          headers,
          as.any,
          body,
          async (operation, values, search, sentHeaders, caller, payload) => {
            const path = fillPath(operation, values)
            const response = await request(`${url}${path}${search}`, {
              method: operation.method as 'GET',
              headers: { ...sentHeaders, ...caller },
              body: ['GET', 'HEAD'].includes(operation.method) ? undefined : payload,
            })
            const text = await response.body.text()
            requests += 1
            const answer = {
              statusCode: response.statusCode,
              contentType: String(response.headers['content-type']),
              text,
            }
            const where = `${operation.method} ${path}${search} → ${response.statusCode}`
            failures.push(...problemsOf(where, operation.method, answer))
            if (caller === as.admin && WRITES.has(operation.method)) {
              adminWrites += 1
              if (refusesCaller(answer)) failures.push(`${where}: the admin was refused: ${text.slice(0, 100)}`)
            }
            return failures.length === 0
          },
        ),
        { numRuns: runs, seed },
      )
      .catch((error: unknown) => {
        failures.push(String(error).split('\n').slice(0, 6).join('\n'))
      })
    t.same(failures, [], `${name}: no 5xx, every 4xx a JSON error, no write`)

    const oddFailures: string[] = []
    await fc
      .assert(
        fc.asyncProperty(
          fc.constantFrom(...operations),
          fc.array(segment, { minLength: 3, maxLength: 3 }),
          oddHeaders,
          // Bodies no route takes, so that nothing is written whatever the headers.
          fc.constantFrom('{"id":"","name":""}', '{"name":7}', '{}'),
          async (operation, values, odd, payload) => {
            const path = fillPath(operation, values)
            const sendsBody = !['GET', 'HEAD'].includes(operation.method)
            // With a Transfer-Encoding of its own, the body goes chunked (a complete request either way).
            const chunked = odd.lines.some((line) => /^transfer-encoding:/i.test(line))
            const lines = [
              `${operation.method} ${path} HTTP/1.1`,
              'Host: 127.0.0.1',
              `Authorization: ${as.admin.authorization}`,
              ...odd.lines,
              'Connection: close',
              ...(sendsBody ? ['Content-Type: application/json'] : []),
              ...(sendsBody && !chunked ? [`Content-Length: ${payload.length}`] : []),
            ]
            const sent = sendsBody ? payload : ''
            const framed = chunked ? `${sent.length.toString(16)}\r\n${sent}\r\n0\r\n\r\n` : sent
            const answer = await rawRequest(url, `${lines.join('\r\n')}\r\n\r\n`, Buffer.from(framed))
            requests += 1
            const where = `${odd.name}: ${operation.method} ${path} → ${answer.statusCode}`
            if (answer.statusCode === 0) oddFailures.push(`${where}: no answer`)
            else if (odd.twoHosts && answer.statusCode !== 400) oddFailures.push(`${where}: two Host headers accepted`)
            oddFailures.push(...problemsOf(where, operation.method, answer))
            if (refusesCaller(answer)) oddFailures.push(`${where}: the admin was refused: ${answer.text.slice(0, 100)}`)
            return oddFailures.length === 0
          },
        ),
        { numRuns: Math.ceil(runs / 2), seed },
      )
      .catch((error: unknown) => {
        oddFailures.push(String(error).split('\n').slice(0, 6).join('\n'))
      })
    t.same(oddFailures, [], `${name}: odd headers get a 4xx JSON error or the usual answer, never a 5xx`)
  }

  t.same(await snapshot(), before, 'users and bookings unchanged')
  t.ok(adminWrites > 0, `${adminWrites} generated writes as the admin, none refused for want of a caller`)
  t.comment(`${requests} generated requests`)
}

const MOVIE_ON_20151130 = '720d006c-3a57-4b6a-b18f-9b713b073f3c'
const PASSWORD = 'prototype-pollution'

/**
 * Users named after Object.prototype's members, straight and through the gateway: created or
 * refused with a 400, then booked, read, unbooked and deleted; no 5xx, nothing of anyone else's
 * changes, and every service stays up. A name deleted here comes up again within the hour its
 * tokens may live: sign-up must refuse it (409), however it is reached.
 */
async function fuzzPrototypeNames(t: Test, system: RunningSystem, runs: number) {
  const gateway = system.url('gateway')
  const others = [
    '/users',
    '/bookings',
    '/bookings/jim_halpert',
    '/users/jim_halpert/bookings',
    '/users/dwight_schrute',
  ]
  const snapshot = async () =>
    Promise.all(others.map(async (path) => `${path} ${await (await fetch(`${gateway}${path}`)).text()}`))
  const before = await snapshot()
  const failures: string[] = []
  const deletedNames = new Set<string>()
  await fc
    .assert(
      fc.asyncProperty(fc.constantFrom(...PROTOTYPE_NAMES), fc.boolean(), async (name, throughGateway) => {
        const base = (service: string) => (throughGateway ? gateway : system.url(service))
        let token: string | undefined
        const call = async (service: string, method: string, path: string, payload?: unknown) => {
          const response = await request(`${base(service)}${path}`, {
            method: method as 'GET',
            headers: {
              ...(payload ? { 'content-type': 'application/json' } : {}),
              // Writes as the user themselves, once they can sign in.
              ...(token && method !== 'GET' ? bearer(token) : {}),
            },
            body: payload ? JSON.stringify(payload) : undefined,
          })
          const text = await response.body.text()
          const answer = {
            statusCode: response.statusCode,
            contentType: String(response.headers['content-type']),
            text,
          }
          const where = `${throughGateway ? 'gateway' : service} ${method} ${path} → ${response.statusCode}`
          failures.push(...problemsOf(where, 'GET', answer))
          return response.statusCode
        }
        const created = await call('users', 'POST', '/users', { id: name, name: 'Proto Type', password: PASSWORD })
        if (deletedNames.has(name)) {
          if (created !== 409) failures.push(`POST /users ${name} → ${created}: deleted within the hour, not held back`)
        } else if (created !== 201 && created !== 400)
          failures.push(`POST /users ${name} → ${created}: neither made nor refused`)
        if (created === 201) {
          token = await signIn(base('users'), name, PASSWORD)
          const booking = `/bookings/${name}/20151130/${MOVIE_ON_20151130}`
          await call('bookings', 'PUT', booking)
          for (const path of [`/bookings/${name}`, '/bookings']) await call('bookings', 'GET', path)
          for (const path of [`/users/${name}`, `/users/${name}/bookings`, `/users/${name}/suggested`])
            await call('users', 'GET', path)
          const during = await snapshot()
          for (const [index, entry] of during.entries()) {
            const unchanged = entry === before[index]
            // The new user appears in the lists of users and of bookings, nowhere else.
            if (!unchanged && !['/users', '/bookings'].includes(others[index] ?? ''))
              failures.push(`${name}: ${others[index]} changed: ${entry.slice(0, 200)}`)
          }
          await call('bookings', 'DELETE', booking)
          // Deleting one's own account takes the current password.
          const deleted = await call('users', 'DELETE', `/users/${name}`, { current_password: PASSWORD })
          if (deleted !== 204) failures.push(`DELETE /users/${name} → ${deleted}: the user cannot be deleted`)
          else deletedNames.add(name)
        }
        for (const service of ['users', 'movies', 'showtimes', 'bookings', 'gateway']) {
          const live = await fetch(`${system.url(service)}/livez`).then(
            (response) => response.status,
            () => 0,
          )
          if (live !== 200) failures.push(`after ${name}: ${service} is down`)
        }
        return failures.length === 0
      }),
      { numRuns: runs, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
    )
    .catch((error: unknown) => {
      failures.push(String(error).split('\n').slice(0, 6).join('\n'))
    })
  t.same(
    failures,
    [],
    'prototype names: made or refused, never a 5xx, nothing else changed, deletable, then held back, all up',
  )
  t.same(await snapshot(), before, 'everyone else’s users and bookings as they were')
}

t.test('fuzzing every route on PGlite', async (t) => {
  const system = await startSystem()
  t.teardown(() => system.close())
  await fuzzEveryRoute(t, system, RUNS_PER_TARGET)
  await fuzzPrototypeNames(t, system, PROTOTYPE_NAMES.length * 2)
})

t.test('fuzzing every route on PostgreSQL', async (t) => {
  const postgres = await startPostgres()
  t.teardown(() => postgres.close())
  const system = await startSystem({
    serviceEnv: {
      users: { DATABASE_URL: await postgres.createDatabase('users') },
      bookings: { DATABASE_URL: await postgres.createDatabase('bookings') },
    },
  })
  t.teardown(() => system.close())
  await fuzzEveryRoute(t, system, RUNS_ON_POSTGRES)
  await fuzzPrototypeNames(t, system, PROTOTYPE_NAMES.length * 2)
})
