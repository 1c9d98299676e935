// The in-run ceiling for a service: a bare Fastify server (no logging, metrics, validation or
// hooks) answering GET /movies/:id with the same JSON as the movies service.
import { readFileSync } from 'node:fs'
import Fastify from 'fastify'

const movies = JSON.parse(readFileSync(new URL('../data/movies.json', import.meta.url), 'utf8'))
const app = Fastify({ logger: false })
app.get('/movies/:id', async (request, reply) => {
  const { id } = /** @type {{ id: string }} */ (request.params)
  const movie = movies[id]
  if (!movie) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'not found' })
  return {
    id: movie.id,
    title: movie.title,
    director: movie.director,
    rating: movie.rating,
    uri: `/movies/${movie.id}`,
  }
})
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
process.on('SIGTERM', () => app.close().then(() => process.exit(0)))
