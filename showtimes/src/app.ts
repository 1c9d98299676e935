import { indexRoute, type ServiceDefinition } from '@cinema/kit'
import { ShowtimesConfig } from './config.js'
import { showtimeRoutes } from './routes/showtimes.js'
import { schedule } from './schedule.js'

export const showtimesService: ServiceDefinition<ShowtimesConfig> = {
  name: 'showtimes',
  configSchema: ShowtimesConfig,
  openapi: { title: 'Cinema showtimes', description: 'The schedule: which movies play on which date.' },
  app: async (fastify, { config }) => {
    await fastify.register(schedule, { file: config.SHOWTIMES_FILE })
    await fastify.register(indexRoute, { subresources: { showtimes: '/showtimes', showtime: '/showtimes/<date>' } })
    await fastify.register(showtimeRoutes)
  },
}
