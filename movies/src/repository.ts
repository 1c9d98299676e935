import { contracts, ownValue, readDataFile } from '@cinema/kit'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** The read-only movie catalog, loaded once from its data file. */
export class MovieRepository {
  constructor(private readonly movies: contracts.MovieCollection) {}

  all(): contracts.MovieCollection {
    return this.movies
  }

  byId(id: string): contracts.Movie | undefined {
    return ownValue(this.movies, id)
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    movies: MovieRepository
  }
}

export const movieRepository = fp(
  async (fastify: FastifyInstance, options: { file: string }) => {
    fastify.decorate('movies', new MovieRepository(readDataFile(options.file, contracts.MovieCollection)))
  },
  { name: 'movie-repository' },
)
