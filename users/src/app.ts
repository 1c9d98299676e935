import {
  createPeerClient,
  database,
  guard,
  indexRoute,
  items,
  peerOptions,
  type ServiceDefinition,
  TokenVerifier,
  trustedProxies,
} from '@cinema/kit'
import { Counter } from 'prom-client'
import { Accounts } from './accounts.js'
import { settleAdministrators } from './administrators.js'
import { Catalogs } from './catalogs.js'
import { UsersConfig } from './config.js'
import { passwordBudget } from './password-budget.js'
import { Passwords } from './passwords.js'
import { userMigrations, userRepository } from './repository.js'
import { authRoutes } from './routes/auth.js'
import { userMovieRoutes } from './routes/user-movies.js'
import { userRoutes } from './routes/users.js'
import { SigningKeys } from './signing-keys.js'

export const usersService: ServiceDefinition<UsersConfig> = {
  name: 'users',
  configSchema: UsersConfig,
  openapi: {
    title: 'Cinema users',
    description:
      'Users, sign-in and their tokens, their booked movies and suggestions, joined from the movies, showtimes and bookings services.',
    bearerAuth: true,
  },
  // The password budget tells clients apart by address: behind the gateway, the one it forwards.
  serverOptions: (config) => ({ trustProxy: trustedProxies(items(config.TRUST_PROXY)) }),
  app: async (fastify, { config }) => {
    await fastify.register(database, { service: 'users', config, migrations: userMigrations(config.SEED_FILE) })
    await fastify.register(userRepository)
    const keys = new SigningKeys(fastify.db, config.SIGNING_KEY_ROTATION_DAYS)
    // The first start makes the signing key here, not in the first sign-in.
    await keys.current()
    const adminUsernames = new Set(items(config.ADMIN_USERNAMES))
    const passwords = new Passwords(
      { concurrency: config.HASH_CONCURRENCY, maxWaitMs: config.HASH_QUEUE_MAX_WAIT_MS },
      new Counter({
        name: 'cinema_password_hashes_total',
        help: 'Password hashes computed (sign-ins, sign-ups, password changes, rehashes)',
        registers: [fastify.metrics.registry],
      }),
    )
    const accounts = await Accounts.create(
      fastify.db,
      keys,
      {
        issuer: config.TOKEN_ISSUER,
        audience: config.TOKEN_AUDIENCE,
        tokenTtlSeconds: config.TOKEN_TTL_SECONDS,
        demoCredentials: config.DEMO_CREDENTIALS,
        adminUsernames,
      },
      passwords,
    )
    await settleAdministrators(fastify, accounts, {
      usernames: [...adminUsernames],
      bootstrapPassword: config.ADMIN_BOOTSTRAP_PASSWORD,
      demoCredentials: config.DEMO_CREDENTIALS,
    })
    await fastify.register(passwordBudget, { config })
    const verifier = new TokenVerifier(keys, { issuer: config.TOKEN_ISSUER, audience: config.TOKEN_AUDIENCE })
    await fastify.register(guard, { verifier, privateReads: config.PRIVATE_READS })

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
    await fastify.register(authRoutes, { accounts, keys })
    await fastify.register(userRoutes, { bookings, accounts })
    await fastify.register(userMovieRoutes, { bookings, catalogs })
  },
}
