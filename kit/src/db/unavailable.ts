import { HttpError } from '../errors.js'
import { classifyNetworkError } from '../network-errors.js'

// SQLSTATE classes meaning "the server is not there or not taking work", as opposed to a bad query.
const UNAVAILABLE_SQLSTATE = /^(08|53|57P)/
// node-postgres reports a lost or impossible connection by message only.
const PG_CONNECTION_MESSAGES =
  /connection terminated|timeout exceeded when trying to connect|connection error|not queryable/i

/** Whether a database call failed because the server cannot be reached (rather than a bad query). */
export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof HttpError) return false
  if (classifyNetworkError(error) !== 'other') return true
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') return UNAVAILABLE_SQLSTATE.test(code)
  return PG_CONNECTION_MESSAGES.test(error.message)
}

/** Runs a database call, turning "cannot reach the database" into a 503 the client can read. */
export async function reachable<T>(service: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    if (!isUnavailable(error)) throw error
    throw new HttpError(503, `the ${service} database is unavailable; try again in a moment`, {
      code: 'DATABASE_UNAVAILABLE',
      service,
      cause: error,
      expose: true,
    })
  }
}
