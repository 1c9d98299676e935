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

const UNREACHABLE = 'Cannot reach the Cinema server. Check your connection, then try again.'

/** Turns the `{statusCode, error, message}` answer of the gateway or a service into words for people. */
function describeFailure(status: number, message: string | undefined): string {
  const unavailable = message?.match(/^(?:the )?(\w+)(?: service)? is unavailable$/i)
  if (unavailable) {
    const what = unavailable[1] === 'gateway' ? 'gateway' : `${unavailable[1]} service`
    return `The ${what} is unavailable. Try again in a moment.`
  }
  const slow = message?.match(/^(\w+) service did not answer/)
  if (slow) return `The ${slow[1]} service is taking too long to answer. Try again in a moment.`
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
    const message = (payload as { message?: unknown } | undefined)?.message
    throw new ApiError(
      response.status,
      describeFailure(response.status, typeof message === 'string' ? message : undefined),
    )
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
