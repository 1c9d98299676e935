// Issue 12's logs: everything the users, bookings and gateway services log at trace level while
// people sign up, sign in (and fail to), change their password, book, cancel and are deleted, with
// tokens in headers and in the session cookie: no password and no token anywhere in it; and one
// audit line at info (`audit: {actor, action, subject}`, with the request's id) for every write.
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { bookingsService } from '../../bookings/src/app.js'
import { gatewayService } from '../../gateway/src/app.js'
import { moviesService } from '../../movies/src/app.js'
import { showtimesService } from '../../showtimes/src/app.js'
import { usersService } from '../../users/src/app.js'
import { DEMO_ADMIN, DEMO_ENV, DEMO_PASSWORD, TestIssuer, unsignedToken } from '../helpers/auth.js'
import { freePort } from '../helpers/ports.js'
import { startPostgres } from '../helpers/postgres.js'
import { build, listen } from '../helpers/servers.js'

const DINOSAUR = '720d006c-3a57-4b6a-b18f-9b713b073f3c'
const DATE = '20151130'

interface LogLine {
  service: string
  text: string
  parsed: { level?: number; reqId?: string; msg?: string; audit?: { actor: string; action: string; subject: string } }
}

/** The services that deal with credentials, built at trace level with their log lines captured. */
async function system(t: Test) {
  // On PostgreSQL: a fresh PGlite database costs seconds of CPU to create.
  const postgres = await startPostgres()
  t.teardown(() => postgres.close())
  const lines: LogLine[] = []
  const capture = (service: string) => ({
    write: (text: string) => {
      lines.push({ service, text, parsed: JSON.parse(text) })
    },
  })
  const traced = { LOG_LEVEL: 'trace' }
  const movies = await listen(await build(t, moviesService))
  const showtimes = await listen(await build(t, showtimesService))
  // users and bookings call each other: bookings gets its port before users is built.
  const bookingsPort = await freePort()
  const bookingsUrl = `http://127.0.0.1:${bookingsPort}`
  const usersApp = await build(
    t,
    usersService,
    {
      ...traced,
      ...DEMO_ENV,
      DATABASE_URL: await postgres.createDatabase('users'),
      MOVIES_URL: movies,
      SHOWTIMES_URL: showtimes,
      BOOKINGS_URL: bookingsUrl,
    },
    { logStream: capture('users') },
  )
  const users = await listen(usersApp)
  const bookingsApp: FastifyInstance = await build(
    t,
    bookingsService,
    { ...traced, DATABASE_URL: await postgres.createDatabase('bookings'), USERS_URL: users, SHOWTIMES_URL: showtimes },
    { logStream: capture('bookings') },
  )
  await bookingsApp.listen({ host: '127.0.0.1', port: bookingsPort })
  const gateway = await listen(
    await build(
      t,
      gatewayService,
      { ...traced, USERS_URL: users, MOVIES_URL: movies, SHOWTIMES_URL: showtimes, BOOKINGS_URL: bookingsUrl },
      { logStream: capture('gateway') },
    ),
  )
  return { lines, users, bookings: bookingsUrl, gateway }
}

interface Sent {
  status: number
  text: string
  headers: Headers
}

let requestCount = 0

async function send(
  baseUrl: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: unknown; rawBody?: string; requestId?: string } = {},
): Promise<Sent & { requestId: string }> {
  requestCount += 1
  const requestId = options.requestId ?? `logs-${requestCount}`
  const headers: Record<string, string> = { 'x-request-id': requestId, ...options.headers }
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body))
  if (body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body })
  return { status: response.status, text: await response.text(), headers: response.headers, requestId }
}

const tokenOf = (answer: Sent) => (JSON.parse(answer.text) as { access_token: string }).access_token

/** Every secret as it could show up: whole, and (for a token) its signature alone. */
function fragmentsOf(secrets: string[]): string[] {
  return secrets.flatMap((secret) => {
    const parts = secret.split('.')
    return parts.length === 3 && parts[2] ? [secret, parts[2]] : [secret]
  })
}

t.test('a captured trace-level log holds no password and no token, and an audit line per write', async (t) => {
  const { lines, users, bookings, gateway } = await system(t)
  const secrets: string[] = []
  /** The audit line expected for each write, by its request id. */
  const writes = new Map<string, { service: string; actor: string; action: string; subject: string }>()
  const expectStatus = (answer: Sent, status: number, what: string) => t.equal(answer.status, status, what)

  const password = 'first-password-of-kelly'
  const newPassword = 'second-password-of-kelly'
  secrets.push(password, newPassword)

  const created = await send(users, 'POST', '/users', { body: { id: 'kelly_kapoor', name: 'Kelly', password } })
  expectStatus(created, 201, 'sign-up')
  writes.set(created.requestId, {
    service: 'users',
    actor: 'kelly_kapoor',
    action: 'create user',
    subject: 'kelly_kapoor',
  })

  const signedIn = await send(users, 'POST', '/auth/token', { body: { username: 'kelly_kapoor', password } })
  expectStatus(signedIn, 200, 'sign-in')
  const token = tokenOf(signedIn)
  secrets.push(token)

  for (const [username, wrong] of [
    ['kelly_kapoor', 'wrong-password-of-kelly'],
    ['nobody_at_all', 'password-of-nobody'],
  ] as const) {
    secrets.push(wrong)
    for (const base of [users, gateway]) {
      expectStatus(await send(base, 'POST', '/auth/token', { body: { username, password: wrong } }), 401, 'refused')
    }
  }

  const refusedChange = await send(users, 'PATCH', '/users/kelly_kapoor', {
    headers: { authorization: `Bearer ${token}` },
    body: { password: newPassword, current_password: 'not-the-current-one' },
  })
  secrets.push('not-the-current-one')
  expectStatus(refusedChange, 403, 'a wrong current password')
  const tooShort = await send(users, 'PATCH', '/users/kelly_kapoor', {
    headers: { authorization: `Bearer ${token}` },
    body: { password: 'tiny-pw9', current_password: password },
  })
  secrets.push('tiny-pw9')
  expectStatus(tooShort, 400, 'a password too short')

  const changed = await send(users, 'PATCH', '/users/kelly_kapoor', {
    headers: { authorization: `Bearer ${token}` },
    body: { password: newPassword, current_password: password },
  })
  expectStatus(changed, 200, 'password changed')
  writes.set(changed.requestId, {
    service: 'users',
    actor: 'kelly_kapoor',
    action: 'change password',
    subject: 'kelly_kapoor',
  })

  // Through the gateway: a sign-in, a rename, a booking.
  const again = await send(gateway, 'POST', '/auth/token', {
    body: { username: 'kelly_kapoor', password: newPassword },
  })
  expectStatus(again, 200, 'sign-in through the gateway')
  const gatewayToken = tokenOf(again)
  secrets.push(gatewayToken)
  const renamed = await send(gateway, 'PATCH', '/users/kelly_kapoor', {
    headers: { authorization: `Bearer ${gatewayToken}` },
    body: { name: 'Kelly Kapoor' },
  })
  expectStatus(renamed, 200, 'renamed')
  writes.set(renamed.requestId, {
    service: 'users',
    actor: 'kelly_kapoor',
    action: 'change name',
    subject: 'kelly_kapoor',
  })
  const booked = await send(gateway, 'PUT', `/bookings/kelly_kapoor/${DATE}/${DINOSAUR}`, {
    headers: { authorization: `Bearer ${gatewayToken}` },
  })
  expectStatus(booked, 201, 'booked')
  writes.set(booked.requestId, {
    service: 'bookings',
    actor: 'kelly_kapoor',
    action: `book ${DINOSAUR} on ${DATE}`,
    subject: 'kelly_kapoor',
  })

  // The web app's session: the token travels in a cookie.
  const session = await send(gateway, 'POST', '/auth/session', {
    headers: { 'x-requested-with': 'cinema' },
    body: { username: 'kelly_kapoor', password: newPassword },
  })
  expectStatus(session, 200, 'session')
  // The session cookie itself, among the ones the sign-in clears (a copy planted under another path).
  const cookie =
    session.headers
      .getSetCookie()
      .map((line) => line.split(';')[0] ?? '')
      .find((pair) => !pair.endsWith('=')) ?? ''
  const cookieToken = cookie.split('=')[1] ?? ''
  t.ok(cookieToken.split('.').length === 3, 'the cookie holds a token')
  secrets.push(cookieToken)
  const cancelled = await send(gateway, 'DELETE', `/bookings/kelly_kapoor/${DATE}/${DINOSAUR}`, {
    headers: { cookie, 'x-requested-with': 'cinema' },
  })
  expectStatus(cancelled, 204, 'cancelled with the cookie')
  writes.set(cancelled.requestId, {
    service: 'bookings',
    actor: 'kelly_kapoor',
    action: `cancel ${DINOSAUR} on ${DATE}`,
    subject: 'kelly_kapoor',
  })

  // Bad tokens, straight and through the gateway: refused, and not logged either.
  const issuer = await TestIssuer.create()
  const badTokens = [
    'garbage-token-abc.def.ghi',
    unsignedToken('kelly_kapoor'),
    await issuer.token('kelly_kapoor', { role: 'admin' }),
    `${token.split('.')[0]}.${Buffer.from('{"sub":"kelly_kapoor","role":"admin"}').toString('base64url')}.${token.split('.')[2]}`,
  ]
  secrets.push(...badTokens)
  for (const bad of badTokens) {
    for (const [base, path] of [
      [users, '/users/kelly_kapoor'],
      [gateway, '/users/kelly_kapoor'],
      [bookings, `/bookings/kelly_kapoor/${DATE}/${DINOSAUR}`],
    ] as const) {
      const method = path.startsWith('/bookings') ? 'PUT' : 'PATCH'
      const answer = await send(base, method, path, {
        headers: { authorization: `Bearer ${bad}` },
        body: { name: 'X' },
      })
      expectStatus(answer, 401, `${method} ${path} with a bad token`)
    }
  }

  // A password in a body that is not JSON: the parser's error must not quote it.
  secrets.push('leaked-password-123')
  for (const base of [users, gateway]) {
    for (const rawBody of [
      '{"username":"kelly_kapoor","password":leaked-password-123}',
      '{"username":"kelly_kapoor","password":"leaked-password-123"',
      'leaked-password-123',
    ]) {
      const answer = await send(base, 'POST', '/auth/token', { rawBody })
      expectStatus(answer, 400, `a malformed body: ${rawBody}`)
      t.notOk(answer.text.includes('leaked-pass'), 'not quoted in the answer either')
    }
  }

  // The administrator deletes the account.
  const admin = await send(gateway, 'POST', '/auth/token', { body: { username: DEMO_ADMIN, password: DEMO_PASSWORD } })
  const adminToken = tokenOf(admin)
  secrets.push(adminToken, DEMO_PASSWORD)
  const deleted = await send(users, 'DELETE', '/users/kelly_kapoor', {
    headers: { authorization: `Bearer ${adminToken}` },
  })
  expectStatus(deleted, 204, 'deleted by the admin')
  writes.set(deleted.requestId, { service: 'users', actor: DEMO_ADMIN, action: 'delete user', subject: 'kelly_kapoor' })

  t.ok(lines.length > 50, `${lines.length} lines captured`)
  t.ok(
    lines.some((line) => line.parsed.level === 10 || line.parsed.level === 20),
    'trace and debug lines are in the capture',
  )
  const leaks = fragmentsOf(secrets).flatMap((secret) =>
    lines.filter((line) => line.text.includes(secret)).map((line) => `${secret.slice(0, 24)}… in ${line.text}`),
  )
  t.same(leaks, [], 'no password and no token in any log line')
  t.notOk(
    lines.some((line) => /Bearer [\w-]+\.|cinema_session=[\w-]/.test(line.text)),
    'no Authorization or cookie value either',
  )

  for (const [requestId, expected] of writes) {
    const audits = lines.filter((line) => line.parsed.audit && line.parsed.reqId === requestId)
    t.equal(audits.length, 1, `${expected.action}: one audit line with its request id ${requestId}`)
    const [audit] = audits
    t.equal(audit?.service, expected.service, `${expected.action}: logged by ${expected.service}`)
    t.equal(audit?.parsed.level, 30, `${expected.action}: at info`)
    t.same(audit?.parsed.audit, { actor: expected.actor, action: expected.action, subject: expected.subject })
  }
  const signIns = lines.filter((line) => line.parsed.audit?.action.startsWith('sign in'))
  t.ok(
    signIns.some((line) => line.parsed.audit?.action === 'sign in refused' && line.parsed.level === 30),
    'a refused sign-in is audited at info',
  )
})
