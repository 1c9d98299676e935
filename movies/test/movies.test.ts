import t from 'tap'
import { build } from '../../test/helpers/servers.js'
import { moviesService } from '../src/app.js'

const CREED = {
  id: '267eedb8-0f5d-42d5-8f43-72426b9fb3e6',
  title: 'Creed',
  director: 'Ryan Coogler',
  rating: 8.8,
}

t.test('movies service', async (t) => {
  const app = await build(t, moviesService)

  t.test('GET / is the index document', async (t) => {
    const response = await app.inject('/')
    t.equal(response.statusCode, 200)
    t.same(response.json(), { uri: '/', subresource_uris: { movies: '/movies', movie: '/movies/<id>' } })
  })

  t.test('GET /movies lists all seven, keyed by id', async (t) => {
    const response = await app.inject('/movies')
    t.equal(response.statusCode, 200)
    const movies = response.json()
    t.equal(Object.keys(movies).length, 7)
    t.same(movies[CREED.id], CREED)
    for (const [id, movie] of Object.entries<{ id: string }>(movies)) t.equal(movie.id, id)
  })

  t.test('GET /movies/{id} answers the movie with its uri, fields in the documented order', async (t) => {
    const response = await app.inject(`/movies/${CREED.id}`)
    t.equal(response.statusCode, 200)
    t.equal(response.body, JSON.stringify({ ...CREED, uri: `/movies/${CREED.id}` }))
  })

  t.test('unknown or malformed ids are 404 with a JSON error', async (t) => {
    for (const id of ['b18f', '267eedb8-0f5d-42d5-8f43-72426b9fb3e7', '%20', 'toString', '__proto__']) {
      const response = await app.inject(`/movies/${id}`)
      t.equal(response.statusCode, 404, id)
      t.match(
        response.json(),
        { statusCode: 404, error: 'Not Found', message: /not found/, code: 'MOVIE_NOT_FOUND' },
        id,
      )
    }
  })
})
