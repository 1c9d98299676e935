import { contracts, ownValue, readDataFile } from '@cinema/kit'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** The read-only schedule of which movies play on which date, loaded once from its data file. */
export class ScheduleRepository {
  constructor(private readonly schedule: contracts.Schedule) {}

  all(): contracts.Schedule {
    return this.schedule
  }

  moviesOn(date: string): string[] | undefined {
    return ownValue(this.schedule, date)
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    schedule: ScheduleRepository
  }
}

export const scheduleRepository = fp(
  async (fastify: FastifyInstance, options: { file: string }) => {
    fastify.decorate('schedule', new ScheduleRepository(readDataFile(options.file, contracts.Schedule)))
  },
  { name: 'schedule-repository' },
)
