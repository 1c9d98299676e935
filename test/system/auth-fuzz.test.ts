// Issue 12's fuzzing of credentials: garbage `Authorization` headers at every route of every
// service and of the gateway (as their OpenAPI documents list them), straight and through the
// gateway, sent over raw TCP so that any byte HTTP allows gets through: random header values,
// huge ones, many dots, `Bearer` spaced oddly, unicode, two Authorization headers, and crafted
// tokens (`alg: none` in every spelling, HS256 signed with the public key as the HMAC secret —
// algorithm confusion —, an embedded key, odd `kid`s, tampered claims). Never a 5xx; every
// protected route answers 401 with a Bearer challenge; the gateway forwards nothing it cannot
// verify; nothing is written.
import { createHmac, createPublicKey, generateKeyPairSync } from 'node:crypto'
import fc from 'fast-check'
import { exportJWK, SignJWT } from 'jose'
import t, { type Test } from 'tap'
import { signIn, TestIssuer } from '../helpers/auth.js'
import { startPostgres } from '../helpers/postgres.js'
import { parseRawResponse, rawRequest } from '../helpers/servers.js'
import { type RunningSystem, startSystem } from '../helpers/system.js'

t.setTimeout(170_000)

const RUNS = Number(process.env.FUZZ_RUNS ?? 300)
const SERVICES = ['users', 'movies', 'showtimes', 'bookings', 'gateway']
const BOOKED_MOVIE = '7daf7208-be4d-4944-a3ae-c1c2f516f3e6'
const BOOKED_DATE = '20151201'
// Node's default limit on the request line and headers together (16 KiB): beyond it, 431.
const HEADER_LIMIT = 16 * 1024

interface Operation {
  /** Who answers: a service straight, or the gateway. */
  target: string
  method: string
  path: string
  /** Marked in its OpenAPI document as needing a bearer token. */
  protected: boolean
  /** A service's route reached through the gateway: the gateway verifies any token before forwarding. */
  proxied: boolean
  body?: string
}

interface Document {
  paths: Record<string, Record<string, { operationId?: string; security?: unknown[] }>>
}

// Path parameters with real values (a user with bookings, one of them), so that only the
// credentials are wrong: a forged admin token that got through would change real data.
const PARAMETERS: Record<string, string> = {
  username: 'dwight_schrute',
  date: BOOKED_DATE,
  movieId: BOOKED_MOVIE,
  id: BOOKED_MOVIE,
  service: 'users',
}

// Bodies that would be accepted with good credentials (or none).
const BODIES: Record<string, unknown> = {
  'POST /users': { id: 'fuzzed_user', name: 'Fuzzed', password: 'a-long-enough-password' },
  'PATCH /users/{username}': { name: 'Renamed by a forger' },
  'POST /auth/token': { username: 'jim_halpert', password: 'cinema-demo' },
  'POST /auth/session': { username: 'jim_halpert', password: 'cinema-demo' },
}

async function documentOf(url: string): Promise<Document> {
  return (await (await fetch(url)).json()) as Document
}

async function operationsOf(system: RunningSystem): Promise<Operation[]> {
  const operations: Operation[] = []
  const add = (target: string, document: Document, proxied: boolean) => {
    for (const [template, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const path = template.replace(/\{(\w+)\}/g, (_, name: string) => PARAMETERS[name] ?? 'x')
        const body = BODIES[`${method.toUpperCase()} ${template}`]
        operations.push({
          target,
          method: method.toUpperCase(),
          path,
          protected: (operation.security?.length ?? 0) > 0,
          proxied,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        })
      }
    }
  }
  for (const name of ['users', 'movies', 'showtimes', 'bookings']) {
    add(name, await documentOf(`${system.url(name)}/openapi.json`), false)
    add('gateway', await documentOf(`${system.url('gateway')}/docs/services/${name}.json`), true)
  }
  add('gateway', await documentOf(`${system.url('gateway')}/openapi.json`), false)
  return operations
}

/** The header lines as bytes on the wire: each character of `value` taken as one byte when it fits, else as UTF-8. */
function wire(value: string): string {
  const fitsBytes = Array.from(value).every((character) => (character.codePointAt(0) ?? 0) <= 0xff)
  return fitsBytes ? value : Buffer.from(value, 'utf8').toString('latin1')
}

/** The status, head and JSON body of a raw answer (the body undefined when it is not JSON: /metrics, /docs). */
function parseAnswer(received: string): Answer {
  try {
    const { status, head, body } = parseRawResponse(received)
    return { status, head, body: body as Answer['body'] }
  } catch {
    const head = received.slice(0, received.indexOf('\r\n\r\n'))
    return { status: Number(head.split(' ')[1]), head, body: undefined }
  }
}

interface Answer {
  status: number
  head: string
  body: { statusCode?: number; code?: string } | undefined
}

async function send(system: RunningSystem, operation: Operation, authorizations: string[]): Promise<Answer> {
  const { host } = new URL(system.url(operation.target))
  const lines = [
    `${operation.method} ${operation.path} HTTP/1.1`,
    `Host: ${host}`,
    ...authorizations.map((value) => `Authorization: ${wire(value)}`),
    'Connection: close',
  ]
  // The web app's header, so that the gateway's session routes judge the credentials, not CSRF.
  if (operation.target === 'gateway') lines.push('X-Requested-With: cinema')
  if (operation.body !== undefined) {
    lines.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(operation.body)}`)
  }
  const received = await rawRequest(
    system.url(operation.target),
    `${lines.join('\r\n')}\r\n\r\n${operation.body ?? ''}`,
  )
  if (!received) return { status: 0, head: '', body: undefined }
  return parseAnswer(received)
}

/** What is wrong with an answer to bad credentials. */
function problemsOf(operation: Operation, authorizations: string[], answer: Answer): string[] {
  const where = `${operation.target} ${operation.method} ${operation.path} with ${JSON.stringify(
    authorizations.map((value) => (value.length > 80 ? `${value.slice(0, 80)}… (${value.length})` : value)),
  )} → ${answer.status}`
  const problems: string[] = []
  if (answer.status === 0) return [`${where}: no answer`]
  if (answer.status >= 500) problems.push(`${where}: ${JSON.stringify(answer.body)}`)
  const size = authorizations.reduce((total, value) => total + Buffer.byteLength(wire(value), 'latin1'), 0)
  // A header block over Node's limit is refused before any route sees it.
  if (size > HEADER_LIMIT - 512) {
    if (answer.status !== 431 && answer.status !== 401) problems.push(`${where}: neither 431 nor 401`)
    return problems
  }
  if (operation.protected || operation.proxied) {
    if (answer.status !== 401) problems.push(`${where}: not 401`)
    else {
      if (answer.body?.code !== 'UNAUTHENTICATED') problems.push(`${where}: code ${answer.body?.code}`)
      if (!/\r\nwww-authenticate: Bearer realm="cinema"/i.test(answer.head)) problems.push(`${where}: no challenge`)
    }
  }
  return problems
}

/** A base64url signature with one bit of its 11th byte flipped. */
function flipBit(signature: string): string {
  const bytes = Buffer.from(signature, 'base64url')
  bytes[10] = (bytes[10] ?? 0) ^ 1
  return bytes.toString('base64url')
}

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

/** Tokens made to be refused, each by a different trick. */
async function craftedTokens(system: RunningSystem): Promise<Record<string, string>> {
  const jwks = (await (await fetch(`${system.url('users')}/.well-known/jwks.json`)).json()) as {
    keys: { kid: string; x: string; kty: string; crv: string }[]
  }
  const [real] = jwks.keys
  if (!real) throw new Error('no published key')
  const now = Math.floor(Date.now() / 1000)
  const claims = { sub: 'dwight_schrute', role: 'admin', iss: 'cinema', aud: 'cinema', iat: now, exp: now + 600 }
  const hs256 = (secret: string | Buffer, header: object = { alg: 'HS256', typ: 'JWT', kid: real.kid }) => {
    const signingInput = `${b64(header)}.${b64(claims)}`
    return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`
  }
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: real.x }, format: 'jwk' })
  const ownKeys = generateKeyPairSync('ed25519')
  const ownJwk = await exportJWK(ownKeys.publicKey)
  const signedByOwnKey = (header: Record<string, unknown>, payload: Record<string, unknown> = claims) =>
    new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', ...header }).sign(ownKeys.privateKey)
  const issuer = await TestIssuer.create()
  const jim = await signIn(system.url('users'), 'jim_halpert')
  const [jimHeader, jimPayload, jimSignature] = jim.split('.') as [string, string, string]
  const jimClaims = JSON.parse(Buffer.from(jimPayload, 'base64url').toString())

  const tokens: Record<string, string> = {
    'alg none, no signature': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`,
    'alg none, a signature': `${b64({ alg: 'none' })}.${b64(claims)}.${jimSignature}`,
    'alg None': `${b64({ alg: 'None', kid: real.kid })}.${b64(claims)}.AAAA`,
    'alg NONE': `${b64({ alg: 'NONE', kid: real.kid })}.${b64(claims)}.AAAA`,
    'alg nOnE': `${b64({ alg: 'nOnE' })}.${b64(claims)}.AAAA`,
    'HS256, secret: the JWK x': hs256(real.x),
    'HS256, secret: the raw public key': hs256(Buffer.from(real.x, 'base64url')),
    'HS256, secret: the JWK as JSON': hs256(JSON.stringify(real)),
    'HS256, secret: the public key PEM': hs256(publicKey.export({ format: 'pem', type: 'spki' }) as string),
    'HS256, secret: the public key DER': hs256(publicKey.export({ format: 'der', type: 'spki' }) as Buffer),
    'HS512 header, HS256 signature': hs256(real.x, { alg: 'HS512', kid: real.kid }),
    'RS256 with an Ed25519 signature': `${b64({ alg: 'RS256', kid: real.kid })}.${jimPayload}.${jimSignature}`,
    'ES256 with an Ed25519 signature': `${b64({ alg: 'ES256', kid: real.kid })}.${jimPayload}.${jimSignature}`,
    'Ed25519 alg name': `${b64({ alg: 'Ed25519', kid: real.kid })}.${jimPayload}.${jimSignature}`,
    'embedded jwk, the real kid': await signedByOwnKey({ kid: real.kid, jwk: ownJwk }),
    'embedded jwk, no kid': await signedByOwnKey({ jwk: ownJwk }),
    'jku to elsewhere': await signedByOwnKey({ kid: 'elsewhere', jku: 'http://127.0.0.1:1/jwks.json' }),
    'x5u to elsewhere': await signedByOwnKey({ kid: real.kid, x5u: 'http://127.0.0.1:1/cert.pem' }),
    'another key, unknown kid': await issuer.token('dwight_schrute', { role: 'admin' }),
    'another key, the real kid': await issuer.token('dwight_schrute', { role: 'admin', kid: real.kid }),
    'kid path traversal': await signedByOwnKey({ kid: '../../../../etc/passwd' }),
    'kid SQL': await signedByOwnKey({ kid: "' OR '1'='1" }),
    'kid __proto__': await signedByOwnKey({ kid: '__proto__' }),
    'kid constructor': await signedByOwnKey({ kid: 'constructor' }),
    'kid huge': await signedByOwnKey({ kid: 'k'.repeat(5_000) }),
    'kid a number': await signedByOwnKey({ kid: 7 }),
    'kid an object': await signedByOwnKey({ kid: { $ne: null } }),
    'crit unknown': `${b64({ alg: 'EdDSA', kid: real.kid, crit: ['x-unknown'], 'x-unknown': 1 })}.${jimPayload}.${jimSignature}`,
    'b64 false': `${b64({ alg: 'EdDSA', kid: real.kid, b64: false, crit: ['b64'] })}.${jimPayload}.${jimSignature}`,
    'role flipped': `${jimHeader}.${b64({ ...jimClaims, role: 'admin' })}.${jimSignature}`,
    'subject changed': `${jimHeader}.${b64({ ...jimClaims, sub: 'dwight_schrute' })}.${jimSignature}`,
    'payload an array': `${jimHeader}.${b64([jimClaims])}.${jimSignature}`,
    'payload not JSON': `${jimHeader}.${b64('not json')}.${jimSignature}`,
    'payload nested deep': `${jimHeader}.${b64(`${'['.repeat(5_000)}${']'.repeat(5_000)}`)}.${jimSignature}`,
    'header not JSON': `${b64('{"alg":')}.${jimPayload}.${jimSignature}`,
    'header __proto__': `${b64('{"__proto__":{"alg":"none"},"kid":"x"}')}.${jimPayload}.${jimSignature}`,
    'padded base64': `${jimHeader}==.${jimPayload}.${jimSignature}`,
    'a character outside base64url': `${jimHeader}.${jimPayload}/.${jimSignature}`,
    'signature one bit off': `${jimHeader}.${jimPayload}.${flipBit(jimSignature)}`,
    'four parts': `${jim}.${jimSignature}`,
    'JWE-shaped, five parts': `${b64({ alg: 'dir', enc: 'A256GCM' })}..${b64('iv')}.${b64('ciphertext')}.${b64('tag')}`,
  }
  return tokens
}

// Headers other than a well-formed bearer token.
const SHAPES: string[] = [
  '',
  'Bearer',
  'Bearer ',
  'bearer',
  'Basic ZHdpZ2h0X3NjaHJ1dGU6Y2luZW1hLWRlbW8=',
  'Digest username="dwight_schrute"',
  'Token abc.def.ghi',
  'Bearer abc.def.ghi',
  'Bearer  abc.def.ghi',
  'Bearer\tabc.def.ghi',
  'Bearer abc .def.ghi',
  'Bearer abc.def.ghi extra',
  'Bearer abc.def.ghi, Bearer jkl.mno.pqr',
  'Bearer "abc.def.ghi"',
  'BearerABC.def.ghi',
  'Bearer ...',
  'Bearer ..',
  'Bearer a..b',
  `Bearer ${'.'.repeat(1_000)}`,
  `Bearer ${Array.from({ length: 500 }, () => 'a').join('.')}`,
  'Bearer тoken.ü.✓',
  'Bearer 🔑.🔑.🔑',
  'Bearer \u00e9\u00e9.\u00ff.\u0080',
  'Bearer null',
  'Bearer undefined',
  'Bearer [object Object]',
  `Bearer ${'a'.repeat(8_000)}.${'b'.repeat(4_000)}.c`,
  `Bearer ${'a'.repeat(20_000)}.b.c`,
]

// Any byte HTTP allows in a header value: tab, space, visible ASCII and obs-text (0x80–0xFF).
const headerByte = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }),
  fc.constant(0x09),
  fc.integer({ min: 0x80, max: 0xff }),
)
const randomValue = fc.array(headerByte, { maxLength: 200 }).map((bytes) => String.fromCharCode(...bytes))
const base64urlPart = fc
  .array(fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), { maxLength: 60 })
  .map((characters) => characters.join(''))
const dottedToken = fc.array(base64urlPart, { minLength: 1, maxLength: 12 }).map((parts) => parts.join('.'))
const scheme = fc.constantFrom('Bearer ', 'bearer ', 'BEARER ', 'Bearer  ', 'Bearer\t', '', 'Basic ', 'Bearer=')
const jsonToken = fc
  .tuple(fc.jsonValue(), fc.jsonValue(), base64urlPart)
  .map(([header, payload, signature]) => `${b64(header)}.${b64(payload)}.${signature}`)
const authorizationValue = fc.oneof(
  randomValue,
  fc.tuple(scheme, dottedToken).map(([prefix, token]) => `${prefix}${token}`),
  fc.tuple(scheme, jsonToken).map(([prefix, token]) => `${prefix}${token}`),
  fc.tuple(scheme, fc.string({ unit: 'grapheme', maxLength: 40 })).map(([prefix, text]) => `${prefix}${text}`),
  fc.constantFrom(...SHAPES),
)

async function snapshot(system: RunningSystem): Promise<string[]> {
  return Promise.all(
    ['/users', '/bookings'].map(async (path) => (await fetch(`${system.url('gateway')}${path}`)).text()),
  )
}

async function fuzz(t: Test, system: RunningSystem) {
  const operations = await operationsOf(system)
  const protectedCount = operations.filter((operation) => operation.protected).length
  t.ok(operations.length > 40, `${operations.length} operations, straight and through the gateway`)
  // The four write routes, each at its service and through the gateway.
  t.equal(protectedCount, 8, 'PUT/DELETE bookings and PATCH/DELETE users, straight and through the gateway')
  const before = await snapshot(system)
  let requests = 0

  await t.test('crafted tokens at every route', async (t) => {
    const tokens = await craftedTokens(system)
    const failures: string[] = []
    for (const [name, token] of Object.entries(tokens)) {
      const answers = await Promise.all(
        operations.map(async (operation) => {
          const authorizations = [`Bearer ${token}`]
          const answer = await send(system, operation, authorizations)
          requests += 1
          return problemsOf(operation, authorizations, answer).map((problem) => `${name}: ${problem}`)
        }),
      )
      failures.push(...answers.flat())
    }
    t.same(failures, [], `${Object.keys(tokens).length} crafted tokens: never a 5xx, 401 where it matters`)
  })

  await t.test('odd shapes and two Authorization headers at every route', async (t) => {
    const failures: string[] = []
    const jim = await signIn(system.url('users'), 'jim_halpert')
    const cases: string[][] = [
      ...SHAPES.map((shape) => [shape]),
      ['Bearer abc.def.ghi', `Bearer ${jim}`],
      ['Basic ZHdpZ2h0', `Bearer ${jim}`],
      ['', `Bearer ${jim}`],
    ]
    for (const authorizations of cases) {
      const answers = await Promise.all(
        operations.map(async (operation) => {
          const answer = await send(system, operation, authorizations)
          requests += 1
          return problemsOf(operation, authorizations, answer)
        }),
      )
      failures.push(...answers.flat())
    }
    // A good token first and a bad one after: the first counts, at the gateway and the service alike.
    const jimsOwn = operations.filter((operation) => operation.method === 'PATCH')
    for (const operation of jimsOwn) {
      const jimPath = { ...operation, path: '/users/jim_halpert', body: '{"name":"Jim Halpert"}' }
      const answer = await send(system, jimPath, [`Bearer ${jim}`, 'Bearer abc.def.ghi'])
      requests += 1
      if (answer.status !== 200) failures.push(`${operation.target} PATCH, good then bad: ${answer.status}`)
    }
    t.same(failures, [], `${cases.length} shapes: never a 5xx, 401 where it matters`)
  })

  await t.test('generated Authorization headers at every route', async (t) => {
    const failures: string[] = []
    await fc
      .assert(
        fc.asyncProperty(
          fc.constantFrom(...operations),
          fc.array(authorizationValue, { minLength: 1, maxLength: 3 }),
          async (operation, authorizations) => {
            const answer = await send(system, operation, authorizations)
            requests += 1
            failures.push(...problemsOf(operation, authorizations, answer))
            return failures.length === 0
          },
        ),
        { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
      )
      .catch((error: unknown) => {
        failures.push(String(error).split('\n').slice(0, 6).join('\n'))
      })
    t.same(failures, [], `${RUNS} generated: never a 5xx, 401 where it matters`)
  })

  t.same(await snapshot(system), before, 'users and bookings unchanged')
  t.comment(`${requests} requests with bad credentials`)
  for (const name of SERVICES) {
    t.equal((await fetch(`${system.url(name)}/readyz`)).status, 200, `${name} still up`)
    t.notMatch(system.output(name), /"level":50/, `${name} logged no error`)
  }
}

t.test('garbage Authorization headers, straight and through the gateway', async (t) => {
  // Users and bookings on PostgreSQL: a fresh PGlite database costs seconds of CPU to create.
  const postgres = await startPostgres()
  t.teardown(() => postgres.close())
  const system = await startSystem({
    only: SERVICES,
    serviceEnv: {
      users: { DATABASE_URL: await postgres.createDatabase('users') },
      bookings: { DATABASE_URL: await postgres.createDatabase('bookings') },
    },
  })
  t.teardown(() => system.close())
  await fuzz(t, system)
})
