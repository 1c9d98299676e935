import { HttpError, type PeerClient } from '@cinema/kit'

/** Cross-service rules for a booking, checked by asking the services that own the facts. */
export class BookingRules {
  constructor(
    private readonly users: PeerClient,
    private readonly showtimes: PeerClient,
  ) {}

  /** 404 when the user does not exist, 422 when the movie does not play that date. */
  async assertBookable(username: string, date: string, movieId: string): Promise<void> {
    const [user, playing] = await Promise.all([
      this.users.getJson(`/users/${encodeURIComponent(username)}`),
      this.showtimes.getJson<string[]>(`/showtimes/${date}`),
    ])
    if (user === undefined) throw new HttpError(404, `user ${username} not found`, { code: 'USER_NOT_FOUND' })
    if (!playing?.includes(movieId))
      throw new HttpError(422, `movie ${movieId} does not play on ${date}`, { code: 'MOVIE_NOT_PLAYING' })
  }
}
