import { indexRoute, type ServiceDefinition } from '@cinema/kit'
import { MoviesConfig } from './config.js'
import { movieRepository } from './repository.js'
import { movieRoutes } from './routes/movies.js'

export const moviesService: ServiceDefinition<MoviesConfig> = {
  name: 'movies',
  configSchema: MoviesConfig,
  openapi: { title: 'Cinema movies', description: 'The movie catalog: titles, directors and ratings.' },
  app: async (fastify, { config }) => {
    await fastify.register(movieRepository, { file: config.MOVIES_FILE })
    await fastify.register(indexRoute, { subresources: { movies: '/movies', movie: '/movies/<id>' } })
    await fastify.register(movieRoutes)
  },
}
