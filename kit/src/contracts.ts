/**
 * The shapes of the public API (docs/API.md) that more than one service speaks:
 * the owner serves them, its callers read them.
 */
import { type Static, Type } from 'typebox'
import Format from 'typebox/format'

/** A real calendar date written as YYYYMMDD, e.g. 20151201. */
export function isShowDate(value: string): boolean {
  if (!/^\d{8}$/.test(value)) return false
  const [year, month, day] = [value.slice(0, 4), value.slice(4, 6), value.slice(6)].map(Number) as [
    number,
    number,
    number,
  ]
  const date = new Date(Date.UTC(year, month - 1, day))
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
}
Format.Set('YYYYMMDD', isShowDate)

export const ShowDate = Type.String({ format: 'YYYYMMDD', description: 'a date as YYYYMMDD', examples: ['20151201'] })

export const MovieId = Type.String({ description: 'movie id (a UUID in the original data)' })

export const Movie = Type.Object({
  id: MovieId,
  title: Type.String(),
  director: Type.String(),
  rating: Type.Number({ minimum: 0, maximum: 10 }),
})
export type Movie = Static<typeof Movie>

export const MovieCollection = Type.Record(Type.String(), Movie, { description: 'every movie, keyed by id' })
export type MovieCollection = Static<typeof MovieCollection>

export const MovieDetail = Type.Object({
  ...Movie.properties,
  uri: Type.String({ description: 'the movie’s own path' }),
})
export type MovieDetail = Static<typeof MovieDetail>

export const movieUri = (id: string) => `/movies/${id}`

export const Schedule = Type.Record(Type.String(), Type.Array(MovieId), {
  description: 'movie ids playing each date, keyed by YYYYMMDD',
})
export type Schedule = Static<typeof Schedule>

export const Username = Type.String({ description: 'user id, e.g. dwight_schrute' })

/** One user's bookings: movie ids booked for each date. */
export const UserBookings = Type.Record(Type.String(), Type.Array(MovieId), {
  description: 'movie ids booked for each date, keyed by YYYYMMDD',
})
export type UserBookings = Static<typeof UserBookings>
