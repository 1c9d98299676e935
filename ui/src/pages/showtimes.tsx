import type { BookedMovies, Movie, MovieCollection, Schedule, UserCollection } from '@cinema/kit/contracts'
import { useRef, useState } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import { bookingsHref } from '../account'
import { entryOf, movieIdOf } from '../api'
import { bookMovie, explainBookingFailure } from '../booking'
import {
  Empty,
  LoadError,
  Loading,
  type Outcome,
  OutcomeMessage,
  Rating,
  ShowDate,
  SignInToChange,
} from '../components'
import { formatShortShowDate, formatShowDate, isoShowDate } from '../format'
import { useApi, usePageTitle } from '../hooks'
import { useSession } from '../session'

const WELL_FORMED_DATE = /^\d{8}$/

/**
 * This page's URL for a date and (for an admin) the user bookings are made for; both stay in the
 * URL across reloads. Everyone else books for themselves.
 */
function showtimesUrl(date: string | undefined, username: string): string {
  const query = new URLSearchParams()
  if (date) query.set('date', date)
  if (username) query.set('user', username)
  const search = query.toString()
  return search ? `/showtimes?${search}` : '/showtimes'
}

function DatePicker({
  dates,
  selected,
  username,
}: {
  dates: string[]
  selected: string | undefined
  username: string
}) {
  return (
    <nav aria-label="Show dates">
      <ul class="date-picker">
        {dates.map((date) => (
          <li key={date}>
            <a
              class="date-option"
              href={showtimesUrl(date, username)}
              aria-current={date === selected ? 'date' : undefined}
            >
              <time dateTime={isoShowDate(date)}>{formatShortShowDate(date)}</time>
            </a>
          </li>
        ))}
      </ul>
    </nav>
  )
}

function UserChoice({
  users,
  username,
  onChoose,
  selectRef,
}: {
  users: UserCollection
  username: string
  onChoose: (username: string) => void
  selectRef: { current: HTMLSelectElement | null }
}) {
  const sorted = Object.values(users).sort((a, b) => a.name.localeCompare(b.name))
  return (
    <div class="field">
      <label for="book-for">Book for</label>
      <select id="book-for" ref={selectRef} value={username} onChange={(event) => onChoose(event.currentTarget.value)}>
        <option value="">Choose a user…</option>
        {sorted.map((user) => (
          <option key={user.id} value={user.id}>
            {user.name} ({user.id})
          </option>
        ))}
      </select>
    </div>
  )
}

export function Showtimes() {
  usePageTitle('Showtimes')
  const { url, query, route } = useLocation()
  const { state } = useSession()
  const admin = state.status === 'signed-in' && state.role === 'admin'
  const username = admin ? (query.user ?? '') : state.status === 'signed-in' ? state.username : ''
  const self = state.status === 'signed-in' && username === state.username
  const showtimes = useApi<Schedule>('/showtimes')
  const movies = useApi<MovieCollection>('/movies')
  // Only an admin chooses whom to book for.
  const users = useApi<UserCollection>(admin ? '/users' : null)
  const booked = useApi<BookedMovies>(username ? `/users/${encodeURIComponent(username)}/bookings` : null)
  const [outcome, setOutcome] = useState<Outcome | undefined>(undefined)
  const [pending, setPending] = useState<string | undefined>(undefined)
  const userSelect = useRef<HTMLSelectElement>(null)

  const dates = showtimes.data ? Object.keys(showtimes.data).sort() : []
  const requested = query.date
  const date = requested ? (entryOf(showtimes.data, requested) ? requested : undefined) : dates[0]
  const who = self ? 'you' : (entryOf(users.data, username)?.name ?? username)
  const whose = self ? 'your' : `${who}’s`

  const playing: Movie[] =
    date && movies.data
      ? (entryOf(showtimes.data, date) ?? [])
          .flatMap((movieId) => entryOf(movies.data, movieId) ?? [])
          .sort((a, b) => b.rating - a.rating || a.title.localeCompare(b.title))
      : []
  const bookedIds = new Set(date ? (entryOf(booked.data, date) ?? []).map((movie) => movieIdOf(movie.uri)) : [])

  function chooseUser(next: string) {
    setOutcome(undefined)
    route(showtimesUrl(date, next), true)
  }

  async function book(movie: Movie) {
    if (!date || pending) return
    if (!username) {
      setOutcome({ ok: false, text: 'Choose who the booking is for first, in “Book for”.' })
      userSelect.current?.focus()
      return
    }
    setPending(movie.id)
    try {
      const created = await bookMovie(username, date, movie.id)
      const when = formatShowDate(date)
      setOutcome({
        ok: true,
        text: (
          <>
            {created
              ? `Booked ${movie.title} for ${who} on ${when}.`
              : `${self ? 'You' : who} already had ${movie.title} booked on ${when}.`}{' '}
            <a href={bookingsHref(username)}>See {whose} bookings</a>
          </>
        ),
      })
      booked.reload()
    } catch (error) {
      setOutcome({ ok: false, text: explainBookingFailure(error, username, movie.title, date) })
    } finally {
      setPending(undefined)
    }
  }

  return (
    <>
      <h1>Showtimes</h1>
      {showtimes.loading && <Loading what="show dates" />}
      {showtimes.error && <LoadError what="the show dates" error={showtimes.error} onRetry={showtimes.reload} />}
      {showtimes.data && dates.length === 0 && <Empty>No show dates are scheduled.</Empty>}
      {dates.length > 0 && <DatePicker dates={dates} selected={date} username={admin ? username : ''} />}
      {requested && showtimes.data && !date && (
        <div class="notice notice-error" role="alert">
          <p>
            Nothing is showing on {WELL_FORMED_DATE.test(requested) ? formatShowDate(requested) : `“${requested}”`}.
            Pick one of the dates above.
          </p>
        </div>
      )}

      {admin && (
        <section aria-labelledby="booking-heading" class="panel">
          <h2 id="booking-heading" class="visually-hidden">
            Who to book for
          </h2>
          {users.loading && <Loading what="users" />}
          {users.error && <LoadError what="the users to book for" error={users.error} onRetry={users.reload} />}
          {users.data && (
            <UserChoice users={users.data} username={username} onChoose={chooseUser} selectRef={userSelect} />
          )}
        </section>
      )}
      {booked.error && <LoadError what={`${whose} bookings`} error={booked.error} onRetry={booked.reload} />}

      {date && (
        <section aria-labelledby="playing-heading">
          <h2 id="playing-heading">
            Playing on <ShowDate date={date} />
          </h2>
          <OutcomeMessage outcome={outcome} />
          {movies.loading && <Loading what="movies" />}
          {movies.error && <LoadError what="the movies" error={movies.error} onRetry={movies.reload} />}
          {movies.data && playing.length === 0 && <Empty>No movie is playing on this date.</Empty>}
          <ul class="grid movies">
            {playing.map((movie) => (
              <li key={movie.id} class="card movie">
                <h3 class="movie-title">
                  {movie.title}
                  {bookedIds.has(movie.id) && <span class="badge">{self ? 'Booked' : `Booked for ${who}`}</span>}
                </h3>
                <p class="movie-director">Directed by {movie.director}</p>
                <Rating rating={movie.rating} />
                {state.status === 'signed-in' && (
                  <button
                    type="button"
                    class="button-primary"
                    onClick={() => book(movie)}
                    aria-disabled={pending === movie.id}
                  >
                    {pending === movie.id ? 'Booking…' : 'Book'}
                    <span class="visually-hidden"> {movie.title}</span>
                  </button>
                )}
                {state.status === 'signed-out' && <SignInToChange action="book" what={movie.title} here={url} />}
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  )
}
