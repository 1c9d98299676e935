// The web app's words for a failed call come from the answer's `code` and `service`, never from
// matching the English of its message. Every call names the app for the gateway's CSRF check, and
// a 401 (no session, or one that ended) goes to the app's handler, which sends the page to sign in.
import t, { type Test } from 'tap'
import { api, describeFailure, onSessionConflict, onUnauthorized, SESSION_CONFLICT_MESSAGE } from '../src/api.js'

t.test('an outage names the service, whatever the message says', async (t) => {
  const peerDown = { code: 'PEER_UNAVAILABLE', service: 'movies' }
  for (const message of [
    'movies service is unavailable',
    'movies service is unavailable (failing; calls paused briefly)',
    'movies service is unavailable (it answered 500)',
    'movies service has no /movies',
  ]) {
    t.equal(describeFailure(503, { ...peerDown, message }), 'The movies service is unavailable. Try again in a moment.')
  }
  t.equal(
    describeFailure(502, { message: 'gateway is unavailable', code: 'PEER_UNAVAILABLE', service: 'gateway' }),
    'The gateway is unavailable. Try again in a moment.',
  )
  t.equal(
    describeFailure(504, {
      message: 'users service did not answer within 3000 ms',
      code: 'PEER_TIMEOUT',
      service: 'users',
    }),
    'The users service is taking too long to answer. Try again in a moment.',
  )
  t.equal(
    describeFailure(502, {
      message: 'showtimes service refused /showtimes (400)',
      code: 'PEER_BAD_ANSWER',
      service: 'showtimes',
    }),
    'The showtimes service sent an answer that could not be used. Try again in a moment.',
  )
  t.equal(
    describeFailure(503, {
      message: 'the bookings database is unavailable; try again in a moment',
      code: 'DATABASE_UNAVAILABLE',
      service: 'bookings',
    }),
    'The bookings database is unavailable. Try again in a moment.',
  )
  t.equal(
    describeFailure(503, {
      message: 'the users service is overloaded; try again in 10 s',
      code: 'OVERLOADED',
      service: 'users',
    }),
    'The users service is too busy right now. Try again in a few seconds.',
  )
})

t.test('other errors are said in their own words; without any, by their status', async (t) => {
  t.equal(describeFailure(404, { message: 'user nobody not found', code: 'USER_NOT_FOUND' }), 'User nobody not found.')
  t.equal(
    describeFailure(503, { message: 'movies service is unavailable' }),
    'Movies service is unavailable.',
    'no code: the message, not a guess from its words',
  )
  t.equal(
    describeFailure(500, undefined),
    'The Cinema server answered with an error (HTTP 500). Try again in a moment.',
  )
})

interface Sent {
  url: string
  init: RequestInit
}

/** Answers every fetch with `status` and `body` (and `headers`), recording what was asked. */
function answerWith(t: Test, status: number, body?: unknown, headers: Record<string, string> = {}): Sent[] {
  const sent: Sent[] = []
  const realFetch = globalThis.fetch
  globalThis.fetch = async (input, init = {}) => {
    sent.push({ url: String(input), init })
    const payload = body === undefined ? null : JSON.stringify(body)
    return new Response(status === 204 ? null : payload, {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    })
  }
  t.teardown(() => {
    globalThis.fetch = realFetch
  })
  return sent
}

/** Counts the calls of the app's 401 handler while the test runs. */
function countUnauthorized(t: Test): { calls: number } {
  const count = { calls: 0 }
  t.teardown(
    onUnauthorized(() => {
      count.calls += 1
    }),
  )
  return count
}

const UNAUTHENTICATED = { statusCode: 401, error: 'Unauthorized', message: 'sign in first', code: 'UNAUTHENTICATED' }

t.test('every call names the app (the gateway’s CSRF check) and sends the cookie to this origin only', async (t) => {
  const sent = answerWith(t, 200, {})
  await api.get('/users')
  await api.put('/bookings/pam_beesly/20151201/x')
  await api.post('/users', { id: 'x' })
  await api.patch('/users/x', { name: 'X' })
  await api.delete('/users/x')
  await api.delete('/users/x', { body: { current_password: 'the password' } })
  t.same(
    sent.map(({ init }) => init.method),
    ['GET', 'PUT', 'POST', 'PATCH', 'DELETE', 'DELETE'],
  )
  t.equal(sent[4]?.init.body, null, 'a DELETE without a body sends none')
  t.equal(sent[5]?.init.body, '{"current_password":"the password"}', 'one’s own deletion sends the password')
  t.equal((sent[5]?.init.headers as Record<string, string> | undefined)?.['content-type'], 'application/json')
  for (const { url, init } of sent) {
    t.match(url, /^\/api\//, `${init.method}: to the app's own /api/`)
    t.equal((init.headers as Record<string, string>)['x-requested-with'], 'cinema', `${init.method}: X-Requested-With`)
    t.equal(init.credentials, 'same-origin', `${init.method}: credentials`)
  }
})

t.test('a 401 calls the app’s handler (which sends the page to sign in), and the call still fails', async (t) => {
  answerWith(t, 401, UNAUTHENTICATED)
  const unauthorized = countUnauthorized(t)
  for (const attempt of [
    () => api.get('/users'),
    () => api.put('/bookings/pam_beesly/20151201/x'),
    () => api.patch('/users/x', { name: 'X' }),
    () => api.delete('/users/x'),
  ]) {
    await t.rejects(attempt(), { name: 'ApiError', status: 401, code: 'UNAUTHENTICATED' })
  }
  t.equal(unauthorized.calls, 4, 'once per 401')
})

t.test('a 401 the caller expects (session probe, sign-in form) is only its answer', async (t) => {
  answerWith(t, 401, { ...UNAUTHENTICATED, message: 'wrong username or password', code: 'BAD_CREDENTIALS' })
  const unauthorized = countUnauthorized(t)
  await t.rejects(api.get('/auth/session', { ownsUnauthorized: true }), { name: 'ApiError', status: 401 })
  await t.rejects(api.post('/auth/session', { username: 'x', password: 'y' }, { ownsUnauthorized: true }), {
    status: 401,
    code: 'BAD_CREDENTIALS',
    message: 'Wrong username or password.',
  })
  await t.rejects(api.delete('/auth/session', { ownsUnauthorized: true }), { name: 'ApiError', status: 401 })
  t.equal(unauthorized.calls, 0)
})

t.test('other failures are not about the session', async (t) => {
  const unauthorized = countUnauthorized(t)
  for (const status of [400, 403, 404, 409, 429, 500, 503]) {
    const sent = answerWith(t, status, { statusCode: status, message: 'no' })
    await t.rejects(api.put('/bookings/pam_beesly/20151201/x'), { name: 'ApiError', status }, String(status))
    t.equal(sent.length, 1)
  }
  t.equal(unauthorized.calls, 0)
})

t.test('two session cookies refused: the session is ended first, then the app’s handler says so', async (t) => {
  const conflict = {
    statusCode: 400,
    error: 'Bad Request',
    message: 'the request carried 2 session cookies (cinema_session), so whose session it is cannot be told',
    code: 'SESSION_CONFLICT',
  }
  const sent: Sent[] = []
  const realFetch = globalThis.fetch
  globalThis.fetch = async (input, init = {}) => {
    sent.push({ url: String(input), init })
    if (init.method === 'DELETE') return new Response(null, { status: 204 })
    return new Response(JSON.stringify(conflict), { status: 400, headers: { 'content-type': 'application/json' } })
  }
  t.teardown(() => {
    globalThis.fetch = realFetch
  })
  const unauthorized = countUnauthorized(t)
  const handled: number[] = []
  t.teardown(onSessionConflict(() => handled.push(sent.length)))

  for (const attempt of [
    () => api.get('/auth/session', { ownsUnauthorized: true }),
    () => api.put('/bookings/pam_beesly/20151201/x'),
    () => api.post('/auth/session', { username: 'x', password: 'y' }, { ownsUnauthorized: true }),
  ]) {
    await t.rejects(attempt(), {
      name: 'ApiError',
      status: 400,
      code: 'SESSION_CONFLICT',
      message: SESSION_CONFLICT_MESSAGE,
    })
  }
  t.same(
    sent.map(({ url, init }) => `${init.method} ${url}`),
    [
      'GET /api/auth/session',
      'DELETE /api/auth/session',
      'PUT /api/bookings/pam_beesly/20151201/x',
      'DELETE /api/auth/session',
      'POST /api/auth/session',
      'DELETE /api/auth/session',
    ],
    'each refusal ends the session',
  )
  for (const { init } of sent.filter(({ init }) => init.method === 'DELETE')) {
    t.equal(
      (init.headers as Record<string, string>)['x-requested-with'],
      'cinema',
      'the sign-out passes the CSRF check',
    )
    t.equal(init.credentials, 'same-origin')
  }
  t.same(handled, [2, 4, 6], 'the handler runs once the session is ended')
  t.equal(unauthorized.calls, 0, 'not a 401')
  t.match(SESSION_CONFLICT_MESSAGE, /signed out.*Sign in again/)
})

t.test('once undone, a 401 calls no handler', async (t) => {
  answerWith(t, 401, UNAUTHENTICATED)
  let calls = 0
  const undo = onUnauthorized(() => {
    calls += 1
  })
  undo()
  await t.rejects(api.get('/users'), { name: 'ApiError', status: 401 })
  t.equal(calls, 0)
})

t.test('a 429 says how long to wait', async (t) => {
  answerWith(t, 429, { message: 'too many failed sign-ins', code: 'TOO_MANY_SIGN_INS' }, { 'retry-after': '600' })
  await t.rejects(api.post('/auth/session', {}, { ownsUnauthorized: true }), {
    status: 429,
    code: 'TOO_MANY_SIGN_INS',
    retryAfterSeconds: 600,
  })
})
