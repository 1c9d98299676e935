import { contracts } from '@cinema/kit'

export const DEFAULT_SUGGESTIONS = 3

/** Movies that play at least once and that the user has not booked, best rated first, ties by title. */
export function suggest(
  movies: contracts.MovieCollection,
  schedule: contracts.Schedule,
  booked: contracts.UserBookings,
  limit: number,
): contracts.MovieDetail[] {
  const playing = new Set(Object.values(schedule).flat())
  const seen = new Set(Object.values(booked).flat())
  return Object.values(movies)
    .filter((movie) => playing.has(movie.id) && !seen.has(movie.id))
    .sort((a, b) => b.rating - a.rating || (a.title < b.title ? -1 : a.title > b.title ? 1 : 0))
    .slice(0, limit)
    .map((movie) => ({ ...movie, uri: contracts.movieUri(movie.id) }))
}
