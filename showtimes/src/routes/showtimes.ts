import { contracts, ErrorResponse, HttpError } from '@cinema/kit'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'

export const showtimeRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get(
    '/showtimes',
    {
      schema: {
        operationId: 'listShowtimes',
        tags: ['showtimes'],
        summary: 'The whole schedule: movie ids keyed by date',
        response: { 200: contracts.Schedule },
      },
    },
    async () => fastify.schedule.all(),
  )

  fastify.get(
    '/showtimes/:date',
    {
      schema: {
        operationId: 'getShowtimes',
        tags: ['showtimes'],
        summary: 'The ids of the movies playing on one date',
        params: Type.Object({ date: contracts.ShowDate }),
        response: { 200: Type.Array(contracts.MovieId), 400: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (request) => {
      const movies = fastify.schedule.moviesOn(request.params.date)
      if (!movies) throw new HttpError(404, `no showtimes on ${request.params.date}`, { code: 'SHOWTIMES_NOT_FOUND' })
      return movies
    },
  )
}
