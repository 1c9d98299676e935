import { type contracts, HttpError, type PeerClient } from '@cinema/kit'

/**
 * A read-only document of a peer, reused for `ttlMs` so that busy endpoints do not refetch it on
 * every request; concurrent callers share one fetch, and failures are never cached. The fetch is
 * no one request's, so it goes through the client itself and carries no request id (the peer makes its own).
 */
class CachedDocument<T> {
  #value: T | undefined
  #fetchedAt = 0
  #inFlight: Promise<T> | undefined

  constructor(
    private readonly fetch: () => Promise<T>,
    private readonly ttlMs: number,
  ) {}

  get(): Promise<T> {
    if (this.#value !== undefined && Date.now() - this.#fetchedAt < this.ttlMs) return Promise.resolve(this.#value)
    this.#inFlight ??= this.fetch()
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

async function required<T>(peer: PeerClient, path: string): Promise<T> {
  const document = await peer.getJson<T>(path)
  if (document === undefined)
    throw new HttpError(503, `${peer.name} service has no ${path}`, {
      code: 'PEER_UNAVAILABLE',
      service: peer.name,
      expose: true,
    })
  return document
}

/** The movie catalog and the schedule, as the users service reads them from their owners. */
export class Catalogs {
  readonly movies: CachedDocument<contracts.MovieCollection>
  readonly schedule: CachedDocument<contracts.Schedule>

  constructor(movies: PeerClient, showtimes: PeerClient, ttlMs: number) {
    this.movies = new CachedDocument(() => required(movies, '/movies'), ttlMs)
    this.schedule = new CachedDocument(() => required(showtimes, '/showtimes'), ttlMs)
  }
}
