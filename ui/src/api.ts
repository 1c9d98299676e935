// The gateway's API as the web app uses it: every call goes to /api/…, which nginx (or the local
// server under `npm start`) forwards to the gateway. The answers' shapes are the kit's contracts
// (`import type` from '@cinema/kit/contracts': types only, nothing of them reaches the bundle).
import type { Schedule } from '@cinema/kit/contracts'

/** A failed call, with a message meant for the person using the app. */
export class ApiError extends Error {
  override name = 'ApiError'
  /** The HTTP status, or 0 when no answer came at all. */
  readonly status: number

  constructor(status: number, message: string) {
    super(message)
    this.status = status
  }
}

/** The error answer of the gateway or a service: `{statusCode, error, message, code}`, `service` when one is to blame. */
export interface ErrorAnswer {
  message?: unknown
  code?: unknown
  service?: unknown
}

const UNREACHABLE = 'Cannot reach the Cinema server. Check your connection, then try again.'

/** Words for people from an error answer: by its `code` and `service`, else its own message. */
export function describeFailure(status: number, answer: ErrorAnswer | undefined): string {
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

async function call<T>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
  let response: Response
  try {
    response = await fetch(`/api${path}`, {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    })
  } catch {
    throw new ApiError(0, UNREACHABLE)
  }
  const payload: unknown = response.status === 204 ? undefined : await response.json().catch(() => undefined)
  if (!response.ok) {
    const answer = typeof payload === 'object' && payload !== null ? (payload as ErrorAnswer) : undefined
    throw new ApiError(response.status, describeFailure(response.status, answer))
  }
  return { status: response.status, body: payload as T }
}

const bodyOf = <T>(answer: Answer<T>) => answer.body

export const api = {
  get: <T>(path: string) => call<T>('GET', path).then(bodyOf),
  /** Resolves to the whole answer: a PUT says by 201 or 200 whether it created something. */
  put: <T>(path: string) => call<T>('PUT', path),
  post: <T>(path: string, body: unknown) => call<T>('POST', path, body).then(bodyOf),
  patch: <T>(path: string, body: unknown) => call<T>('PATCH', path, body).then(bodyOf),
  delete: (path: string) => call<void>('DELETE', path).then(bodyOf),
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
