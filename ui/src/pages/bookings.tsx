import type { BookedMovie, BookedMovies, MovieDetail, Schedule, User } from '@cinema/kit/contracts'
import type { ComponentChildren } from 'preact'
import { useState } from 'preact/hooks'
import { useLocation, useRoute } from 'preact-iso'
import { bookingsHref, userPath as userApiPath } from '../account'
import { datesByMovie, entryOf, movieIdOf } from '../api'
import { bookMovie, cancelBooking, explainBookingFailure, explainCancelFailure } from '../booking'
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
import { formatShowDate } from '../format'
import { useApi, usePageTitle } from '../hooks'
import { mayChange, type SessionState, useSession } from '../session'

/**
 * What this page offers in place of a control for the person looking: the control itself when the
 * bookings are theirs (or they are an admin), the way to sign in when signed out, else nothing.
 */
type Control = 'change' | 'sign-in' | 'none'

function controlFor(state: SessionState, username: string): Control {
  if (mayChange(state, username)) return 'change'
  return state.status === 'signed-out' ? 'sign-in' : 'none'
}

const SUGGESTIONS = 5

function BookedDay({
  date,
  movies,
  control,
  here,
  onCancel,
}: {
  date: string
  movies: BookedMovie[]
  control: Control
  here: string
  onCancel: (date: string, movie: BookedMovie) => void
}) {
  const headingId = `day-${date}`
  return (
    <section class="day" aria-labelledby={headingId}>
      <h3 id={headingId}>
        <ShowDate date={date} />
      </h3>
      <ul class="booked-list">
        {movies.map((movie) => (
          <li key={movie.uri} class="booked">
            <span class="booked-title">{movie.title}</span>
            <Rating rating={movie.rating} />
            {control === 'change' && (
              <button type="button" class="button-secondary" onClick={() => onCancel(date, movie)}>
                Cancel
                <span class="visually-hidden">
                  {' '}
                  {movie.title} on {formatShowDate(date)}
                </span>
              </button>
            )}
            {control === 'sign-in' && (
              <SignInToChange action="cancel" what={`${movie.title} on ${formatShowDate(date)}`} here={here} />
            )}
          </li>
        ))}
      </ul>
    </section>
  )
}

function Suggestion({
  movie,
  dates,
  control,
  here,
  onBook,
}: {
  movie: MovieDetail
  dates: string[] | undefined
  control: Control
  here: string
  onBook: (movie: MovieDetail, date: string) => void
}) {
  const [date, setDate] = useState<string | undefined>(undefined)
  const chosen = date ?? dates?.[0]
  const selectId = `date-for-${movie.id}`
  return (
    <li class="card movie">
      <h3 class="movie-title">{movie.title}</h3>
      <p class="movie-director">Directed by {movie.director}</p>
      <Rating rating={movie.rating} />
      {control === 'change' && dates && dates.length > 0 && chosen && (
        <div class="inline-form">
          <div class="field">
            <label for={selectId}>
              Date<span class="visually-hidden"> for {movie.title}</span>
            </label>
            <select id={selectId} value={chosen} onChange={(event) => setDate(event.currentTarget.value)}>
              {dates.map((option) => (
                <option key={option} value={option}>
                  {formatShowDate(option)}
                </option>
              ))}
            </select>
          </div>
          <button type="button" class="button-primary" onClick={() => onBook(movie, chosen)}>
            Book<span class="visually-hidden"> {movie.title}</span>
          </button>
        </div>
      )}
      {control === 'sign-in' && dates && dates.length > 0 && (
        <SignInToChange action="book" what={movie.title} here={here} />
      )}
      {dates && dates.length === 0 && <p class="plays">Not showing on any date.</p>}
    </li>
  )
}

/** Where to book from every show date, for whoever may. */
function BookingNote({
  control,
  state,
  username,
  name,
}: {
  control: Control
  state: SessionState
  username: string
  name: string
}) {
  let note: ComponentChildren
  if (control === 'change') {
    const own = state.status === 'signed-in' && state.username === username
    note = <a href={own ? '/showtimes' : `/showtimes?user=${encodeURIComponent(username)}`}>Book from all showtimes</a>
  } else if (state.status === 'signed-in') {
    note = (
      <>
        Only {name} can change these bookings. <a href={bookingsHref(state.username)}>See your own</a>
      </>
    )
  }
  return note ? <> · {note}</> : null
}

export function Bookings() {
  const username = useRoute().params.username ?? ''
  const { url } = useLocation()
  const { state } = useSession()
  const control = controlFor(state, username)
  const userPath = userApiPath(username)
  const user = useApi<User>(userPath)
  const bookings = useApi<BookedMovies>(`${userPath}/bookings`)
  const suggestions = useApi<MovieDetail[]>(`${userPath}/suggested?limit=${SUGGESTIONS}`)
  const showtimes = useApi<Schedule>('/showtimes')
  const [outcome, setOutcome] = useState<Outcome | undefined>(undefined)
  const name = user.data?.name ?? username
  usePageTitle(`${name}’s bookings`)

  function refresh(next: Outcome) {
    setOutcome(next)
    bookings.reload()
    suggestions.reload()
  }

  async function cancel(date: string, movie: BookedMovie) {
    try {
      await cancelBooking(username, date, movieIdOf(movie.uri))
      refresh({ ok: true, text: `Cancelled ${movie.title} on ${formatShowDate(date)}.` })
    } catch (error) {
      refresh({ ok: false, text: explainCancelFailure(error, movie.title, date) })
    }
  }

  async function book(movie: MovieDetail, date: string) {
    try {
      const created = await bookMovie(username, date, movie.id)
      const when = formatShowDate(date)
      refresh({
        ok: true,
        text: created ? `Booked ${movie.title} on ${when}.` : `${movie.title} on ${when} was already booked.`,
      })
    } catch (error) {
      refresh({ ok: false, text: explainBookingFailure(error, name, movie.title, date) })
    }
  }

  if (user.error?.status === 404) {
    return (
      <>
        <h1>No such user</h1>
        <p>
          There is no user called “{username}”. Choose someone from the <a href="/users">users</a>.
        </p>
      </>
    )
  }

  const days = bookings.data ? Object.keys(bookings.data).sort() : []
  const dates = showtimes.data ? datesByMovie(showtimes.data) : undefined

  return (
    <>
      <h1>{name}’s bookings</h1>
      {user.error && <LoadError what="this user" error={user.error} onRetry={user.reload} />}
      <p class="lead">
        Username <span class="username">{username}</span>
        <BookingNote control={control} state={state} username={username} name={name} />
      </p>

      <section aria-labelledby="booked-heading">
        <h2 id="booked-heading">Booked</h2>
        <OutcomeMessage outcome={outcome} />
        {bookings.loading && <Loading what="bookings" />}
        {bookings.error && <LoadError what="the bookings" error={bookings.error} onRetry={bookings.reload} />}
        {bookings.data && days.length === 0 && <Empty>No bookings yet. Book one of the suggestions below.</Empty>}
        {days.map((date) => (
          <BookedDay
            key={date}
            date={date}
            movies={entryOf(bookings.data, date) ?? []}
            control={control}
            here={url}
            onCancel={cancel}
          />
        ))}
      </section>

      <section aria-labelledby="suggested-heading">
        <h2 id="suggested-heading">Suggested for {name}</h2>
        {suggestions.loading && <Loading what="suggestions" />}
        {suggestions.error && <LoadError what="suggestions" error={suggestions.error} onRetry={suggestions.reload} />}
        {showtimes.error && <LoadError what="the show dates" error={showtimes.error} onRetry={showtimes.reload} />}
        {suggestions.data?.length === 0 && <Empty>Nothing left to suggest: every movie showing is booked.</Empty>}
        <ul class="grid movies">
          {suggestions.data?.map((movie) => (
            <Suggestion
              key={movie.id}
              movie={movie}
              dates={dates?.get(movie.id)}
              control={control}
              here={url}
              onBook={book}
            />
          ))}
        </ul>
      </section>
    </>
  )
}
