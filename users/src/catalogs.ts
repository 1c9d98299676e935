import { type contracts, HttpError, type PeerClient } from '@cinema/kit'

/**
 * A read-only document of a peer, reused for `ttlMs` so that busy endpoints do not refetch it on
 * every request; concurrent callers share one fetch, and failures are never cached.
 */
class CachedDocument<T> {
  #value: T | undefined
  #fetchedAt = 0
  #inFlight: Promise<T> | undefined

  constructor(
    private readonly fetch: (requestId: string) => Promise<T>,
    private readonly ttlMs: number,
  ) {}

  get(requestId: string): Promise<T> {
    if (this.#value !== undefined && Date.now() - this.#fetchedAt < this.ttlMs) return Promise.resolve(this.#value)
    this.#inFlight ??= this.fetch(requestId)
      .then((value) => {
        this.#value = value
        this.#fetchedAt = Date.now()
        return value
      })
      .finally(() => {
        this.#inFlight = undefined
      })
    return this.#inFlight
  }
}

async function required<T>(peer: PeerClient, path: string, requestId: string): Promise<T> {
  const document = await peer.getJson<T>(path, requestId)
  if (document === undefined) throw new HttpError(503, `${peer.name} service has no ${path}`, { expose: true })
  return document
}

/** The movie catalog and the schedule, as the users service reads them from their owners. */
export class Catalogs {
  readonly movies: CachedDocument<contracts.MovieCollection>
  readonly schedule: CachedDocument<contracts.Schedule>

  constructor(movies: PeerClient, showtimes: PeerClient, ttlMs: number) {
    this.movies = new CachedDocument((requestId) => required(movies, '/movies', requestId), ttlMs)
    this.schedule = new CachedDocument((requestId) => required(showtimes, '/showtimes', requestId), ttlMs)
  }
}
