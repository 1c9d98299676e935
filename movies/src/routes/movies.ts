import { contracts, ErrorResponse, HttpError } from '@cinema/kit'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'

export const movieRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get(
    '/movies',
    {
      schema: {
        operationId: 'listMovies',
        tags: ['movies'],
        summary: 'Every movie, keyed by id',
        response: { 200: contracts.MovieCollection },
      },
    },
    async () => fastify.movies.all(),
  )

  fastify.get(
    '/movies/:id',
    {
      schema: {
        operationId: 'getMovie',
        tags: ['movies'],
        summary: 'One movie, with its uri',
        params: Type.Object({ id: contracts.MovieId }),
        response: { 200: contracts.MovieDetail, 404: ErrorResponse },
      },
    },
    async (request) => {
      const movie = fastify.movies.byId(request.params.id)
      if (!movie) throw new HttpError(404, `movie ${request.params.id} not found`, { code: 'MOVIE_NOT_FOUND' })
      return { ...movie, uri: contracts.movieUri(movie.id) }
    },
  )
}
