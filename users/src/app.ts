import { createPeerClient, database, indexRoute, peerOptions, type ServiceDefinition } from '@cinema/kit'
import { Catalogs } from './catalogs.js'
import { UsersConfig } from './config.js'
import { userMigrations, userRepository } from './repository.js'
import { userMovieRoutes } from './routes/user-movies.js'
import { userRoutes } from './routes/users.js'

export const usersService: ServiceDefinition<UsersConfig> = {
  name: 'users',
  configSchema: UsersConfig,
  openapi: {
    title: 'Cinema users',
    description: 'Users, their booked movies and suggestions, joined from the movies, showtimes and bookings services.',
  },
  app: async (fastify, { config }) => {
    await fastify.register(database, { service: 'users', config, migrations: userMigrations(config.SEED_FILE) })
    await fastify.register(userRepository)
    const bookings = createPeerClient(fastify, peerOptions(config, 'bookings', config.BOOKINGS_URL))
    const catalogs = new Catalogs(
      createPeerClient(fastify, peerOptions(config, 'movies', config.MOVIES_URL)),
      createPeerClient(fastify, peerOptions(config, 'showtimes', config.SHOWTIMES_URL)),
      config.CATALOG_CACHE_TTL_MS,
    )
    await fastify.register(indexRoute, {
      subresources: {
        users: '/users',
        user: '/users/<username>',
        bookings: '/users/<username>/bookings',
        suggested: '/users/<username>/suggested',
      },
    })
    await fastify.register(userRoutes, { bookings })
    await fastify.register(userMovieRoutes, { bookings, catalogs })
  },
}
