// The read part of docs/API.md as requests and their exact expected answers,
// computed from the original data files the way the document describes them.
import { readFileSync } from 'node:fs'

const load = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../../data/${name}.json`, import.meta.url), 'utf8'))

type Movie = { id: string; title: string; director: string; rating: number }
const movies = load<Record<string, Movie>>('movies')
const showtimes = load<Record<string, string[]>>('showtimes')
const bookings = load<Record<string, Record<string, string[]>>>('bookings')
const users = load<Record<string, { id: string; name: string; last_active: number }>>('users')

const detail = (id: string) => {
  const movie = movies[id] as Movie
  return { id: movie.id, title: movie.title, director: movie.director, rating: movie.rating, uri: `/movies/${id}` }
}
const collection = Object.fromEntries(
  Object.values(movies).map((movie) => [
    movie.id,
    { id: movie.id, title: movie.title, director: movie.director, rating: movie.rating },
  ]),
)
const suggested = (ids: string[]) => ids.map(detail)
const [DINOSAUR, MARTIAN, NIGHT_BEFORE, SPECTRE] = [
  '720d006c-3a57-4b6a-b18f-9b713b073f3c',
  'a8034f44-aee4-44cf-b32c-74cf452aaaae',
  '96798c08-d19b-4986-a05d-7da856efb697',
  '39ab85e5-5e8e-4dc5-afea-65dc368bd7ab',
] as const

export interface ReferenceCall {
  service: 'users' | 'movies' | 'showtimes' | 'bookings'
  path: string
  status: number
  body: unknown
}

// The original error body, plus the machine-readable code every error now carries.
const error = (statusCode: number, message: string, code: string) => ({
  statusCode,
  error: statusCode === 404 ? 'Not Found' : 'Bad Request',
  message,
  code,
})

export const READ_CALLS: ReferenceCall[] = [
  {
    service: 'movies',
    path: '/',
    status: 200,
    body: { uri: '/', subresource_uris: { movies: '/movies', movie: '/movies/<id>' } },
  },
  { service: 'movies', path: '/movies', status: 200, body: collection },
  ...Object.keys(movies).map((id) => ({
    service: 'movies' as const,
    path: `/movies/${id}`,
    status: 200,
    body: detail(id),
  })),
  { service: 'movies', path: '/movies/b18f', status: 404, body: error(404, 'movie b18f not found', 'MOVIE_NOT_FOUND') },
  {
    service: 'showtimes',
    path: '/',
    status: 200,
    body: { uri: '/', subresource_uris: { showtimes: '/showtimes', showtime: '/showtimes/<date>' } },
  },
  { service: 'showtimes', path: '/showtimes', status: 200, body: showtimes },
  ...Object.entries(showtimes).map(([date, ids]) => ({
    service: 'showtimes' as const,
    path: `/showtimes/${date}`,
    status: 200,
    body: ids,
  })),
  {
    service: 'showtimes',
    path: '/showtimes/20490101',
    status: 404,
    body: error(404, 'no showtimes on 20490101', 'SHOWTIMES_NOT_FOUND'),
  },
  {
    service: 'showtimes',
    path: '/showtimes/2015-12-01',
    status: 400,
    body: error(400, 'params/date must match format "YYYYMMDD"', 'VALIDATION_FAILED'),
  },
  {
    service: 'bookings',
    path: '/',
    status: 200,
    body: { uri: '/', subresource_uris: { bookings: '/bookings', booking: '/bookings/<username>' } },
  },
  { service: 'bookings', path: '/bookings', status: 200, body: bookings },
  ...Object.entries(bookings).map(([username, dates]) => ({
    service: 'bookings' as const,
    path: `/bookings/${username}`,
    status: 200,
    body: dates,
  })),
  {
    service: 'bookings',
    path: '/bookings/jim_the_duck_guy',
    status: 404,
    body: error(404, 'no bookings for jim_the_duck_guy', 'BOOKING_NOT_FOUND'),
  },
  {
    service: 'users',
    path: '/',
    status: 200,
    body: {
      uri: '/',
      subresource_uris: {
        users: '/users',
        user: '/users/<username>',
        bookings: '/users/<username>/bookings',
        suggested: '/users/<username>/suggested',
      },
    },
  },
  { service: 'users', path: '/users', status: 200, body: users },
  ...Object.values(users).map((user) => ({
    service: 'users' as const,
    path: `/users/${user.id}`,
    status: 200,
    body: user,
  })),
  {
    service: 'users',
    path: '/users/jim_the_duck_guy',
    status: 404,
    body: error(404, 'user jim_the_duck_guy not found', 'USER_NOT_FOUND'),
  },
  ...Object.keys(users).map((username) => ({
    service: 'users' as const,
    path: `/users/${username}/bookings`,
    status: 200,
    body: Object.fromEntries(
      Object.entries(bookings[username] ?? {}).map(([date, ids]) => [
        date,
        ids.map((id) => ({ title: movies[id]?.title, rating: movies[id]?.rating, uri: `/movies/${id}` })),
      ]),
    ),
  })),
  {
    service: 'users',
    path: '/users/jim_the_duck_guy/bookings',
    status: 404,
    body: error(404, 'user jim_the_duck_guy not found', 'USER_NOT_FOUND'),
  },
  {
    service: 'users',
    path: '/users/dwight_schrute/suggested',
    status: 200,
    body: suggested([DINOSAUR, NIGHT_BEFORE, SPECTRE]),
  },
  {
    service: 'users',
    path: '/users/chris_rivers/suggested',
    status: 200,
    body: suggested([MARTIAN, DINOSAUR, NIGHT_BEFORE]),
  },
  { service: 'users', path: '/users/chris_rivers/suggested?limit=1', status: 200, body: suggested([MARTIAN]) },
  {
    service: 'users',
    path: '/users/jim_the_duck_guy/suggested',
    status: 404,
    body: error(404, 'user jim_the_duck_guy not found', 'USER_NOT_FOUND'),
  },
]
