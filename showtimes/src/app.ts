import { indexRoute, type ServiceDefinition } from '@cinema/kit'
import { ShowtimesConfig } from './config.js'
import { scheduleRepository } from './repository.js'
import { showtimeRoutes } from './routes/showtimes.js'

export const showtimesService: ServiceDefinition<ShowtimesConfig> = {
  name: 'showtimes',
  configSchema: ShowtimesConfig,
  openapi: { title: 'Cinema showtimes', description: 'The schedule: which movies play on which date.' },
  app: async (fastify, { config }) => {
    await fastify.register(scheduleRepository, { file: config.SHOWTIMES_FILE })
    await fastify.register(indexRoute, { subresources: { showtimes: '/showtimes', showtime: '/showtimes/<date>' } })
    await fastify.register(showtimeRoutes)
  },
}
