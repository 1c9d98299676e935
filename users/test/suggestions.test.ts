import t from 'tap'
import { suggest } from '../src/suggestions.js'

const movie = (id: string, title: string, rating: number) => ({ id, title, director: `director of ${title}`, rating })
const MOVIES = {
  a: movie('a', 'Alpha', 7),
  b: movie('b', 'Bravo', 9),
  c: movie('c', 'Charlie', 7),
  d: movie('d', 'Delta', 8),
  e: movie('e', 'Echo', 10),
}
const SCHEDULE = { '20151201': ['a', 'b'], '20151202': ['c', 'd', 'b'] }

t.test('only movies that play and that the user has not booked', async (t) => {
  const ids = suggest(MOVIES, SCHEDULE, { '20151201': ['b'] }, 10).map((suggested) => suggested.id)
  t.same(ids, ['d', 'a', 'c'], 'e plays on no date; b is booked')
})

t.test('best rated first, equal ratings by title', async (t) => {
  t.same(
    suggest(MOVIES, SCHEDULE, {}, 10).map((suggested) => suggested.title),
    ['Bravo', 'Delta', 'Alpha', 'Charlie'],
  )
  const reversed = { c: MOVIES.c, a: MOVIES.a }
  t.same(
    suggest(reversed, SCHEDULE, {}, 10).map((suggested) => suggested.title),
    ['Alpha', 'Charlie'],
    'whatever the catalog order',
  )
})

t.test('at most `limit` movies, each with its uri', async (t) => {
  t.same(suggest(MOVIES, SCHEDULE, {}, 2), [
    { ...MOVIES.b, uri: '/movies/b' },
    { ...MOVIES.d, uri: '/movies/d' },
  ])
})

t.test('nothing to suggest: an empty list', async (t) => {
  t.same(suggest(MOVIES, {}, {}, 3), [], 'nothing plays')
  t.same(suggest(MOVIES, SCHEDULE, { '20151202': ['a', 'b', 'c', 'd'] }, 3), [], 'everything playing is booked')
})
