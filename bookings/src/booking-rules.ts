import { HttpError, type PeerCaller } from '@cinema/kit'
import type { FastifyRequest } from 'fastify'

/**
 * Cross-service rules for a booking, checked by asking the services that own the facts (through
 * callers speaking for the request being served: `new BookingRules(users.onBehalfOf(request), …)`).
 */
export class BookingRules {
  constructor(
    private readonly users: PeerCaller,
    private readonly showtimes: PeerCaller,
  ) {}

  /** 422 when the movie does not play that date. */
  async assertPlaying(date: string, movieId: string): Promise<void> {
    const playing = await this.showtimes.getJson<string[]>(`/showtimes/${date}`)
    if (!playing?.includes(movieId))
      throw new HttpError(422, `movie ${movieId} does not play on ${date}`, { code: 'MOVIE_NOT_PLAYING' })
  }

  /**
   * 404 when the user does not exist or is being deleted (the users service answers 404 for both).
   * Asked after the booking is written, so that a deletion either sees the booking or is seen here.
   */
  async assertUserExists(username: string): Promise<void> {
    const user = await this.users.getJson(`/users/${encodeURIComponent(username)}`)
    if (user === undefined) throw new HttpError(404, `user ${username} not found`, { code: 'USER_NOT_FOUND' })
  }
}

/** The rules as checked on behalf of one request. */
export type BookingRulesFor = (request: FastifyRequest) => BookingRules
