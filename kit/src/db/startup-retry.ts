import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyBaseLogger } from 'fastify'
import { HttpError } from '../errors.js'

/** Retries `attempt` while the database is unreachable, up to `timeoutMs`; other errors fail at once. */
export async function whenDatabaseReachable<T>(
  attempt: () => Promise<T>,
  timeoutMs: number,
  log: FastifyBaseLogger,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (let delay = 250; ; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await attempt()
    } catch (error) {
      const unreachable = error instanceof HttpError && error.statusCode === 503
      if (!unreachable || Date.now() + delay > deadline) throw error
      log.warn({ retryInMs: delay }, 'database not reachable yet')
      await sleep(delay)
    }
  }
}
