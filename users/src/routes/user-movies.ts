import { contracts, ErrorResponse, emptyRecord, HttpError, ownValue, type PeerClient } from '@cinema/kit'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { type Static, Type } from 'typebox'
import type { Catalogs } from '../catalogs.js'

const BookedMovie = Type.Object({ title: Type.String(), rating: Type.Number(), uri: Type.String() })
const BookedMovies = Type.Record(Type.String(), Type.Array(BookedMovie), {
  description: 'the user’s booked movies for each date, keyed by YYYYMMDD',
})
const PeerFailures = { 404: ErrorResponse, 503: ErrorResponse, 504: ErrorResponse }

export const DEFAULT_SUGGESTIONS = 3

/** Movies that play at least once and that the user has not booked, best rated first, ties by title. */
export function suggest(
  movies: contracts.MovieCollection,
  schedule: contracts.Schedule,
  booked: contracts.UserBookings,
  limit: number,
): contracts.MovieDetail[] {
  const playing = new Set(Object.values(schedule).flat())
  const seen = new Set(Object.values(booked).flat())
  return Object.values(movies)
    .filter((movie) => playing.has(movie.id) && !seen.has(movie.id))
    .sort((a, b) => b.rating - a.rating || (a.title < b.title ? -1 : a.title > b.title ? 1 : 0))
    .slice(0, limit)
    .map((movie) => ({ ...movie, uri: contracts.movieUri(movie.id) }))
}

/**
 * Looks the user up in parallel with `lookups` (peer calls); an unknown user is a 404 whatever
 * the peers answered, otherwise a peer failure is the answer.
 */
async function forKnownUser<T>(fastify: FastifyInstance, username: string, lookups: Promise<T>): Promise<T> {
  const [user, result] = await Promise.allSettled([fastify.users.byId(username), lookups])
  if (user.status === 'rejected') throw user.reason
  if (!user.value) throw new HttpError(404, `user ${username} not found`)
  if (result.status === 'rejected') throw result.reason
  return result.value
}

export const userMovieRoutes: FastifyPluginAsyncTypebox<{ bookings: PeerClient; catalogs: Catalogs }> = async (
  fastify,
  { bookings, catalogs },
) => {
  const bookingsOf = async (username: string) =>
    (await bookings.getJson<contracts.UserBookings>(`/bookings/${encodeURIComponent(username)}`)) ?? {}

  fastify.get(
    '/users/:username/bookings',
    {
      schema: {
        operationId: 'getUserBookedMovies',
        tags: ['users'],
        summary: 'The user’s bookings with each movie’s title, rating and uri',
        description: 'A known user without bookings gets {}.',
        params: Type.Object({ username: contracts.Username }),
        response: { 200: BookedMovies, ...PeerFailures },
      },
    },
    async (request) => {
      const { username } = request.params
      const [booked, movies] = await forKnownUser(
        fastify,
        username,
        Promise.all([bookingsOf(username), catalogs.movies.get()]),
      )
      const result = emptyRecord<Static<typeof BookedMovie>[]>()
      for (const [date, movieIds] of Object.entries(booked)) {
        result[date] = movieIds.flatMap((movieId) => {
          const movie = ownValue(movies, movieId)
          if (!movie) {
            request.log.warn({ movieId, date }, 'booked movie missing from the catalog')
            return []
          }
          return [{ title: movie.title, rating: movie.rating, uri: contracts.movieUri(movie.id) }]
        })
      }
      return result
    },
  )

  fastify.get(
    '/users/:username/suggested',
    {
      schema: {
        operationId: 'getUserSuggestions',
        tags: ['users'],
        summary: 'Movies to suggest: playing, not booked by the user, best rated first',
        params: Type.Object({ username: contracts.Username }),
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 20, default: DEFAULT_SUGGESTIONS })),
        }),
        response: { 200: Type.Array(contracts.MovieDetail), 400: ErrorResponse, ...PeerFailures },
      },
    },
    async (request) => {
      const { username } = request.params
      const [booked, movies, schedule] = await forKnownUser(
        fastify,
        username,
        Promise.all([bookingsOf(username), catalogs.movies.get(), catalogs.schedule.get()]),
      )
      return suggest(movies, schedule, booked, request.query.limit ?? DEFAULT_SUGGESTIONS)
    },
  )
}
