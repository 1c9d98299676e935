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

  /**
   * Writes the booking unconfirmed, before its user is checked (docs/architecture.md, "Deleting a
   * user while they book"); the new row's id, undefined when that booking already existed. The
   * unique constraint decides, not a prior read.
   */
  async reserve(username: string, date: string, movieId: string): Promise<number | undefined> {
    const [inserted] = await this.db.query<{ id: number }>(
      `INSERT INTO bookings (username, show_date, movie_id, confirmed) VALUES ($1, $2, $3, false)
       ON CONFLICT ON CONSTRAINT bookings_once DO NOTHING RETURNING id`,
      [username, date, movieId],
    )
    return inserted?.id
  }

  /** Confirms the booking once its user was found; false when it is gone (withdrawn, cancelled or swept). */
  async confirm(username: string, date: string, movieId: string): Promise<boolean> {
    const confirmed = await this.db.query(
      `UPDATE bookings SET confirmed = true
       WHERE username = $1 AND show_date = $2 AND movie_id = $3 RETURNING id`,
      [username, date, movieId],
    )
    return confirmed.length === 1
  }

  /** Removes the row `reserve` made, unless another request for the same booking confirmed it since. */
  async withdraw(id: number): Promise<void> {
    await this.db.query('DELETE FROM bookings WHERE id = $1 AND NOT confirmed', [id])
  }

  /**
   * Removes the bookings left unconfirmed for longer than `seconds` (their request crashed between
   * writing and checking); how many. A request still under way then fails to confirm and answers 503.
   */
  async sweepUnconfirmed(seconds: number): Promise<number> {
    const swept = await this.db.query(
      'DELETE FROM bookings WHERE NOT confirmed AND created_at < now() - make_interval(secs => $1) RETURNING id',
      [seconds],
    )
    return swept.length
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
