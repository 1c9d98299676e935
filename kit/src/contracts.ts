/**
 * The shapes of the public API (docs/API.md), declared once: the service that owns one serves it,
 * its callers and the web app read it (the web app with `import type` only, so that none of this
 * reaches its bundle).
 */
import { type Static, Type } from 'typebox'
import Format from 'typebox/format'
import { USERNAME_PATTERN } from './username.js'

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

/** The id of a new user: existing ids are looked up as they are (Username), new ones must match. */
export const UserId = Type.String({
  pattern: USERNAME_PATTERN,
  description: 'lowercase letters, digits and _ (1–64), e.g. dwight_schrute',
})

export const User = Type.Object({
  id: Username,
  name: Type.String(),
  last_active: Type.Integer({ description: 'Unix time in seconds' }),
})
export type User = Static<typeof User>

export const UserCollection = Type.Record(Type.String(), User, { description: 'every user, keyed by username' })
export type UserCollection = Static<typeof UserCollection>

/** One user's bookings: movie ids booked for each date. */
export const UserBookings = Type.Record(Type.String(), Type.Array(MovieId), {
  description: 'movie ids booked for each date, keyed by YYYYMMDD',
})
export type UserBookings = Static<typeof UserBookings>

export const AllBookings = Type.Record(Username, UserBookings, {
  description: 'every user’s bookings, keyed by username',
})
export type AllBookings = Static<typeof AllBookings>

/** A booked movie as the users service shows it: what a person needs, and the link to the rest. */
export const BookedMovie = Type.Object({ title: Type.String(), rating: Type.Number(), uri: Type.String() })
export type BookedMovie = Static<typeof BookedMovie>

export const BookedMovies = Type.Record(Type.String(), Type.Array(BookedMovie), {
  description: 'the user’s booked movies for each date, keyed by YYYYMMDD',
})
export type BookedMovies = Static<typeof BookedMovies>

/** One service as the gateway's /status sees it. */
export const ServiceStatus = Type.Object({
  name: Type.String(),
  status: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  latencyMs: Type.Number({ description: 'round trip of the service’s /readyz from the gateway' }),
  detail: Type.String({ description: '"ready", or why the service is down' }),
})
export type ServiceStatus = Static<typeof ServiceStatus>

export const SystemStatus = Type.Object({
  services: Type.Array(ServiceStatus),
  checkedAt: Type.String({ format: 'date-time' }),
})
export type SystemStatus = Static<typeof SystemStatus>

/** What a signed-in person may do: their own things (customer), or anyone's (admin). */
export const ROLES = ['customer', 'admin'] as const
export type Role = (typeof ROLES)[number]

/** The gateway's answer about a web session (`/auth/session`): whose it is, never the token. */
export const Session = Type.Object({
  username: Username,
  role: Type.Enum(ROLES),
  expires_at: Type.Integer({ description: 'when the session ends, Unix time in seconds' }),
})
export type Session = Static<typeof Session>
