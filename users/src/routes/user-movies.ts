import {
  AUTH_RESPONSES,
  contracts,
  ErrorResponse,
  emptyRecord,
  ownValue,
  type PeerClient,
  securityOf,
} from '@cinema/kit'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { Catalogs } from '../catalogs.js'
import { forKnownUser } from '../known-user.js'
import { DEFAULT_SUGGESTIONS, suggest } from '../suggestions.js'

const PeerFailures = { 404: ErrorResponse, 503: ErrorResponse, 504: ErrorResponse }

export const userMovieRoutes: FastifyPluginAsyncTypebox<{ bookings: PeerClient; catalogs: Catalogs }> = async (
  fastify,
  { bookings, catalogs },
) => {
  const { guard } = fastify
  const readResponses = guard.privateReads ? AUTH_RESPONSES : {}
  const bookingsOf = async (request: FastifyRequest, username: string) =>
    (await bookings.onBehalfOf(request).getJson<contracts.UserBookings>(`/bookings/${encodeURIComponent(username)}`)) ??
    {}

  fastify.get(
    '/users/:username/bookings',
    {
      schema: {
        operationId: 'getUserBookedMovies',
        tags: ['users'],
        summary: 'The user’s bookings with each movie’s title, rating and uri',
        description: 'A known user without bookings gets {}.',
        params: Type.Object({ username: contracts.Username }),
        ...securityOf(guard.privateReads),
        response: { 200: contracts.BookedMovies, ...readResponses, ...PeerFailures },
      },
    },
    async (request) => {
      const { username } = request.params
      await guard.requireReading(request, username)
      const [booked, movies] = await forKnownUser(
        fastify.users,
        username,
        Promise.all([bookingsOf(request, username), catalogs.movies.get()]),
      )
      const result = emptyRecord<contracts.BookedMovie[]>()
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
        ...securityOf(guard.privateReads),
        response: { 200: Type.Array(contracts.MovieDetail), 400: ErrorResponse, ...readResponses, ...PeerFailures },
      },
    },
    async (request) => {
      const { username } = request.params
      await guard.requireReading(request, username)
      const [booked, movies, schedule] = await forKnownUser(
        fastify.users,
        username,
        Promise.all([bookingsOf(request, username), catalogs.movies.get(), catalogs.schedule.get()]),
      )
      return suggest(movies, schedule, booked, request.query.limit ?? DEFAULT_SUGGESTIONS)
    },
  )
}
