import type { Movie, MovieCollection, Schedule } from '@cinema/kit/contracts'
import { useState } from 'preact/hooks'
import { datesByMovie } from '../api'
import { Empty, LoadError, Loading, Rating } from '../components'
import { formatShortShowDate, formatShowDate, isoShowDate, plural } from '../format'
import { useApi, usePageTitle } from '../hooks'

type SortOrder = 'rating' | 'title'

const byTitle = (a: Movie, b: Movie) => a.title.localeCompare(b.title)
const COMPARATORS: Record<SortOrder, (a: Movie, b: Movie) => number> = {
  rating: (a, b) => b.rating - a.rating || byTitle(a, b),
  title: byTitle,
}

function PlayDates({ dates }: { dates: string[] | undefined }) {
  if (!dates) return null
  if (dates.length === 0) return <p class="plays">Not showing on any date.</p>
  return (
    <div class="plays">
      <span class="plays-label">Plays on</span>
      <ul class="chips">
        {dates.map((date) => (
          <li key={date}>
            <a class="chip" href={`/showtimes?date=${date}`}>
              <time dateTime={isoShowDate(date)} title={formatShowDate(date)}>
                {formatShortShowDate(date)}
              </time>
            </a>
          </li>
        ))}
      </ul>
    </div>
  )
}

export function Movies() {
  usePageTitle('Movies')
  const movies = useApi<MovieCollection>('/movies')
  const showtimes = useApi<Schedule>('/showtimes')
  const [filter, setFilter] = useState('')
  const [sortOrder, setSortOrder] = useState<SortOrder>('rating')

  const dates = showtimes.data ? datesByMovie(showtimes.data) : undefined
  const all = movies.data ? Object.values(movies.data) : []
  const needle = filter.trim().toLocaleLowerCase()
  const shown = all
    .filter((movie) => `${movie.title} ${movie.director}`.toLocaleLowerCase().includes(needle))
    .sort(COMPARATORS[sortOrder])

  return (
    <>
      <h1>Movies</h1>
      <div class="toolbar">
        <div class="field">
          <label for="movie-filter">Find a title or director</label>
          <input
            id="movie-filter"
            type="search"
            value={filter}
            onInput={(event) => setFilter(event.currentTarget.value)}
            autoComplete="off"
          />
        </div>
        <div class="field">
          <label for="movie-sort">Sort by</label>
          <select
            id="movie-sort"
            value={sortOrder}
            onChange={(event) => setSortOrder(event.currentTarget.value as SortOrder)}
          >
            <option value="rating">Rating, highest first</option>
            <option value="title">Title, A to Z</option>
          </select>
        </div>
      </div>
      {movies.loading && <Loading what="movies" />}
      {movies.error && <LoadError what="the movies" error={movies.error} onRetry={movies.reload} />}
      {showtimes.error && <LoadError what="the show dates" error={showtimes.error} onRetry={showtimes.reload} />}
      {movies.data && (
        <>
          <p class="summary" aria-live="polite">
            {needle
              ? `${plural(shown.length, 'movie')} of ${all.length} match “${filter.trim()}”.`
              : `${plural(all.length, 'movie')}.`}
          </p>
          {shown.length === 0 && (
            <Empty>
              {all.length === 0 ? 'There are no movies in the catalog yet.' : 'No movie matches; try fewer letters.'}
            </Empty>
          )}
          <ul class="grid movies">
            {shown.map((movie) => (
              <li key={movie.id} class="card movie">
                <h2 class="movie-title">{movie.title}</h2>
                <p class="movie-director">Directed by {movie.director}</p>
                <Rating rating={movie.rating} />
                <PlayDates dates={dates ? (dates.get(movie.id) ?? []) : undefined} />
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  )
}
