import {
  createPeerClient,
  database,
  guard,
  indexRoute,
  peerOptions,
  RemoteKeySet,
  type ServiceDefinition,
  TokenVerifier,
} from '@cinema/kit'
import { BookingRules, type BookingRulesFor } from './booking-rules.js'
import { BookingsConfig } from './config.js'
import { bookingMigrations, bookingRepository } from './repository.js'
import { bookingRoutes } from './routes/bookings.js'

// Far above any request's life (peer timeouts are seconds), so that no request under way is swept.
const UNCONFIRMED_BOOKING_LIFETIME_SECONDS = 60

export const bookingsService: ServiceDefinition<BookingsConfig> = {
  name: 'bookings',
  configSchema: BookingsConfig,
  openapi: { title: 'Cinema bookings', description: 'Who booked which movie on which date.', bearerAuth: true },
  app: async (fastify, { config }) => {
    await fastify.register(database, { service: 'bookings', config, migrations: bookingMigrations(config.SEED_FILE) })
    await fastify.register(bookingRepository)
    // A booking is confirmed within a request (seconds at most); one left unconfirmed longer was
    // written by a process that stopped before checking its user, and was never acknowledged.
    const swept = await fastify.bookings.sweepUnconfirmed(UNCONFIRMED_BOOKING_LIFETIME_SECONDS)
    if (swept > 0) fastify.log.warn({ swept }, 'removed bookings left unconfirmed by an interrupted request')
    const users = createPeerClient(fastify, peerOptions(config, 'users', config.USERS_URL))
    const showtimes = createPeerClient(fastify, peerOptions(config, 'showtimes', config.SHOWTIMES_URL))
    // Tokens are checked against the users service's published keys.
    const verifier = new TokenVerifier(new RemoteKeySet(users), {
      issuer: config.TOKEN_ISSUER,
      audience: config.TOKEN_AUDIENCE,
    })
    await fastify.register(guard, { verifier, privateReads: config.PRIVATE_READS })
    const rulesFor: BookingRulesFor = (request) =>
      new BookingRules(users.onBehalfOf(request), showtimes.onBehalfOf(request))
    await fastify.register(indexRoute, { subresources: { bookings: '/bookings', booking: '/bookings/<username>' } })
    await fastify.register(bookingRoutes, { rulesFor })
  },
}
