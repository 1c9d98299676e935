import { fileURLToPath } from 'node:url'
import {
  contracts,
  emptyRecord,
  type Migration,
  type Queryable,
  readDataFile,
  seedMigration,
  sqlMigrations,
} from '@cinema/kit'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

interface BookingRow {
  username: string
  show_date: string
  movie_id: string
}

/** Rows by username, then date. Usernames are outside input: the objects have no prototype. */
function group(rows: BookingRow[]): contracts.AllBookings {
  const byUser = emptyRecord<contracts.UserBookings>()
  for (const row of rows) {
    const dates = byUser[row.username] ?? emptyRecord<string[]>()
    byUser[row.username] = dates
    const movieIds = dates[row.show_date] ?? []
    movieIds.push(row.movie_id)
    dates[row.show_date] = movieIds
  }
  return byUser
}

/** Bookings in the bookings database. Rows come back in booking order. */
export class BookingRepository {
  constructor(private readonly db: Queryable) {}

  async all(): Promise<contracts.AllBookings> {
    return group(
      await this.db.query<BookingRow>('SELECT username, show_date, movie_id FROM bookings ORDER BY id', [], {
        cache: true,
      }),
    )
  }

  /** The user's bookings, or undefined when they have none. */
  async forUser(username: string): Promise<contracts.UserBookings | undefined> {
    const rows = await this.db.query<BookingRow>(
      'SELECT username, show_date, movie_id FROM bookings WHERE username = $1 ORDER BY id',
      [username],
      { cache: true },
    )
    return group(rows)[username]
  }

  /** Books; false when that booking already existed. The unique constraint decides, not a prior read. */
  async add(username: string, date: string, movieId: string): Promise<boolean> {
    const inserted = await this.db.query(
      `INSERT INTO bookings (username, show_date, movie_id) VALUES ($1, $2, $3)
       ON CONFLICT ON CONSTRAINT bookings_once DO NOTHING RETURNING id`,
      [username, date, movieId],
    )
    return inserted.length === 1
  }

  /** Cancels; false when there was no such booking. */
  async remove(username: string, date: string, movieId: string): Promise<boolean> {
    const deleted = await this.db.query(
      'DELETE FROM bookings WHERE username = $1 AND show_date = $2 AND movie_id = $3 RETURNING id',
      [username, date, movieId],
    )
    return deleted.length === 1
  }
}

/** The schema migrations, then the one-time seed from the original data set. */
export function bookingMigrations(seedFile: string): Migration[] {
  return [
    ...sqlMigrations(fileURLToPath(new URL('../migrations', import.meta.url))),
    seedMigration('seed_original_bookings', 'bookings', ['username', 'show_date', 'movie_id'], () =>
      Object.entries(readDataFile(seedFile, contracts.AllBookings)).flatMap(([username, dates]) =>
        Object.entries(dates).flatMap(([date, movieIds]) => movieIds.map((movieId) => [username, date, movieId])),
      ),
    ),
  ]
}

declare module 'fastify' {
  interface FastifyInstance {
    bookings: BookingRepository
  }
}

export const bookingRepository = fp(
  async (fastify: FastifyInstance) => {
    fastify.decorate('bookings', new BookingRepository(fastify.db))
  },
  { name: 'booking-repository', dependencies: ['cinema-database'] },
)
