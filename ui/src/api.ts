// The gateway's API as the web app uses it: every call goes to /api/…, which nginx (or the local
// server under `npm start`) forwards to the gateway. The answers' shapes are the kit's contracts
// (`import type` from '@cinema/kit/contracts': types only, nothing of them reaches the bundle).
import type { Schedule } from '@cinema/kit/contracts'

/** A failed call, with a message meant for the person using the app. */
export class ApiError extends Error {
  override name = 'ApiError'
  /** The HTTP status, or 0 when no answer came at all. */
  readonly status: number
  /** The answer's `code` (e.g. `USER_ID_RESERVED`), when it had one. */
  readonly code: string | undefined
  /** Seconds to wait before asking again, from a 429's or 503's `Retry-After`. */
  readonly retryAfterSeconds: number | undefined

  constructor(
    status: number,
    message: string,
    details: { code?: string | undefined; retryAfterSeconds?: number | undefined } = {},
  ) {
    super(message)
    this.status = status
    this.code = details.code
    this.retryAfterSeconds = details.retryAfterSeconds
  }
}

/** The error answer of the gateway or a service: `{statusCode, error, message, code}`, `service` when one is to blame. */
export interface ErrorAnswer {
  message?: unknown
  code?: unknown
  service?: unknown
}

const UNREACHABLE = 'Cannot reach the Cinema server. Check your connection, then try again.'
/** Said when the gateway refused two session cookies (SESSION_CONFLICT) and the app signed out. */
export const SESSION_CONFLICT_MESSAGE =
  'Your browser sent two sessions for this site (another site may have set one), so you have been signed out to be safe. Sign in again; if this keeps happening, delete this site’s cookies in your browser.'

/** Words for people from an error answer: by its `code` and `service`, else its own message. */
export function describeFailure(status: number, answer: ErrorAnswer | undefined): string {
  if (answer?.code === 'SESSION_CONFLICT') return SESSION_CONFLICT_MESSAGE
  const service = typeof answer?.service === 'string' ? answer.service : undefined
  if (service) {
    const what = service === 'gateway' ? 'The gateway' : `The ${service} service`
    switch (answer?.code) {
      case 'PEER_UNAVAILABLE':
        return `${what} is unavailable. Try again in a moment.`
      case 'PEER_TIMEOUT':
        return `${what} is taking too long to answer. Try again in a moment.`
      case 'PEER_BAD_ANSWER':
        return `${what} sent an answer that could not be used. Try again in a moment.`
      case 'DATABASE_UNAVAILABLE':
        return `The ${service} database is unavailable. Try again in a moment.`
      case 'OVERLOADED':
        return `${what} is too busy right now. Try again in a few seconds.`
    }
  }
  const message = typeof answer?.message === 'string' ? answer.message : undefined
  if (message) return `${message.charAt(0).toUpperCase()}${message.slice(1)}.`
  return `The Cinema server answered with an error (HTTP ${status}). Try again in a moment.`
}

interface Answer<T> {
  status: number
  body: T
}

export interface CallOptions {
  /**
   * A 401 is this call's own answer, for its caller to read (the session probe: "signed out"; the
   * sign-in form: "wrong password"), not a session that is missing or over.
   */
  ownsUnauthorized?: boolean
}

/**
 * Sent with every call. The gateway refuses a cookie-authenticated write without it: a page on
 * another site can make the browser send the cookie, but not this header without the gateway's
 * consent (a cross-origin request with a custom header needs a CORS preflight it never grants).
 */
export const REQUESTED_WITH = { 'x-requested-with': 'cinema' } as const

/** One handler the app sets for something any call may run into; setting it returns what undoes it. */
function handlerSlot() {
  let current: (() => void) | undefined
  return {
    call: () => current?.(),
    set: (handler: () => void): (() => void) => {
      current = handler
      return () => {
        if (current === handler) current = undefined
      }
    },
  }
}

const unauthorized = handlerSlot()
const sessionConflict = handlerSlot()

/**
 * What to do when a call answers 401 because the session is missing or over: the app sends the
 * page to sign in. The call still fails with its ApiError. Returns the function that undoes this.
 */
export const onUnauthorized = unauthorized.set

/**
 * What to do when the gateway refused a call for carrying two session cookies (400
 * SESSION_CONFLICT: another origin of the site planted one): by then the session has been ended
 * (`DELETE /auth/session`, which clears every copy the gateway can); the app says so and offers
 * sign-in. The call still fails with its ApiError. Returns the function that undoes this.
 */
export const onSessionConflict = sessionConflict.set

/** Ends the session, whatever it was: never refused for two cookies, it clears them. */
async function endSession(): Promise<void> {
  await fetch('/api/auth/session', { method: 'DELETE', headers: REQUESTED_WITH, credentials: 'same-origin' }).then(
    (response) => response.body?.cancel(),
    () => undefined,
  )
}

function retryAfterOf(response: Response): number | undefined {
  const seconds = Number(response.headers.get('retry-after') ?? Number.NaN)
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined
}

async function call<T>(method: string, path: string, body: unknown, options: CallOptions = {}): Promise<Answer<T>> {
  let response: Response
  try {
    response = await fetch(`/api${path}`, {
      method,
      headers: {
        ...REQUESTED_WITH,
        ...(body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? null : JSON.stringify(body),
      // The session cookie goes to this origin only (fetch's default, said here on purpose).
      credentials: 'same-origin',
    })
  } catch {
    throw new ApiError(0, UNREACHABLE)
  }
  const payload: unknown = response.status === 204 ? undefined : await response.json().catch(() => undefined)
  if (!response.ok) {
    const answer = typeof payload === 'object' && payload !== null ? (payload as ErrorAnswer) : undefined
    const failure = new ApiError(response.status, describeFailure(response.status, answer), {
      code: typeof answer?.code === 'string' ? answer.code : undefined,
      retryAfterSeconds: retryAfterOf(response),
    })
    if (response.status === 401 && !options.ownsUnauthorized) unauthorized.call()
    if (failure.code === 'SESSION_CONFLICT') {
      await endSession()
      sessionConflict.call()
    }
    throw failure
  }
  return { status: response.status, body: payload as T }
}

const bodyOf = <T>(answer: Answer<T>) => answer.body

export const api = {
  get: <T>(path: string, options?: CallOptions) => call<T>('GET', path, undefined, options).then(bodyOf),
  /** Resolves to the whole answer: a PUT says by 201 or 200 whether it created something. */
  put: <T>(path: string) => call<T>('PUT', path, undefined),
  post: <T>(path: string, body: unknown, options?: CallOptions) => call<T>('POST', path, body, options).then(bodyOf),
  patch: <T>(path: string, body: unknown) => call<T>('PATCH', path, body).then(bodyOf),
  /** `body`: what a deletion may need (one's own account: the current password). */
  delete: (path: string, options: CallOptions & { body?: unknown } = {}) =>
    call<void>('DELETE', path, options.body, options).then(bodyOf),
}

export function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(0, UNREACHABLE)
}

/**
 * The message to show for a failed action: the caller's own words for the statuses it expects
 * (a 409 means something different for each action), the general description otherwise.
 */
export function explain(error: unknown, expected: Partial<Record<number, string>> = {}): string {
  const failure = asApiError(error)
  return expected[failure.status] ?? failure.message
}

/**
 * The entry stored under `key` (a date, username or movie id, often from the page's URL), never a
 * member every object inherits: `?date=constructor` finds no date, not Object's constructor.
 */
export function entryOf<Value>(record: Readonly<Record<string, Value>> | undefined, key: string): Value | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined
}

/** The movie id in a `/movies/<id>` link. */
export function movieIdOf(uri: string): string {
  return decodeURIComponent(uri.slice(uri.lastIndexOf('/') + 1))
}

/** Movie id → the dates it plays, earliest first. */
export function datesByMovie(showtimes: Schedule): Map<string, string[]> {
  const dates = new Map<string, string[]>()
  for (const date of Object.keys(showtimes).sort()) {
    for (const movieId of entryOf(showtimes, date) ?? []) dates.set(movieId, [...(dates.get(movieId) ?? []), date])
  }
  return dates
}
