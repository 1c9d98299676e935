// Paths that some hop would read as another are refused by every service, before its own hooks;
// every path of the API and of the web app passes.
import { request as httpRequest } from 'node:http'
import t from 'tap'
import { nonCanonicalPath } from '../src/canonical-path.js'
import { buildService, loadServiceConfig, type ServiceDefinition } from '../src/service.js'
import { type Config, SAMPLE } from './helpers/sample-service.js'

// docs/API.md's paths with sample values, the probes, the gateway's docs, and the web app's pages and assets.
const CANONICAL = [
  '/',
  '/.well-known/jwks.json',
  '/auth/session',
  '/auth/token',
  '/bookings',
  '/bookings/dwight_schrute',
  '/bookings/dwight_schrute/20151201/0b7c1c4e-93d3-4b6e-9f0a-4f1c2d3e4b5a',
  '/docs',
  '/docs/services/users',
  '/livez',
  '/readyz',
  '/metrics',
  '/movies',
  '/movies/0b7c1c4e-93d3-4b6e-9f0a-4f1c2d3e4b5a',
  '/openapi.json',
  '/showtimes',
  '/showtimes/20151201',
  '/status',
  '/users',
  '/users/dwight_schrute',
  '/users/dwight_schrute/bookings',
  '/users/dwight_schrute/suggested',
  '/users/%64wight_schrute',
  '/movies?title=a%2e..%2f/b',
  '/movies/',
  '/assets/index-Bx1_2c.js',
  '/favicon.svg',
  '/bookings/x',
  '/sign-in?next=/bookings/../x',
  // Routed alike by every hop; the route's validation refuses them.
  '/users/a%00b',
  '/users/a%0Ab/bookings',
]

const NON_CANONICAL: [string, RegExp][] = [
  ['/auth/./token', /"\." segment/],
  ['/auth/../token', /"\.\." segment/],
  ['/auth/token/.', /"\." segment/],
  ['/auth/token/..', /"\.\." segment/],
  ['/auth/%2e/token', /encoded "\."/],
  ['/auth/%2E%2e/token', /encoded "\."/],
  ['/auth/.%2E/token', /encoded "\."/],
  ['/auth//token', /empty segment/],
  ['//auth/token', /empty segment/],
  ['/auth\\token', /backslash/],
  ['/auth%5Ctoken', /encoded "\\"/],
  ['/auth%2ftoken', /encoded "\/"/],
  ['/auth/token#x', /#/],
  ['/auth/tok\u00e9n', /percent-encoded/],
  ['http://example.com/auth/token', /must be a path/],
  ['*', /must be a path/],
]

t.test('every path the API and the web app have is canonical', async (t) => {
  for (const path of CANONICAL) t.equal(nonCanonicalPath(path), undefined, path)
})

t.test('each non-canonical spelling is named for what is wrong with it', async (t) => {
  for (const [path, reason] of NON_CANONICAL) t.match(nonCanonicalPath(path), reason, path)
})

t.test('a service answers 400 before its own hooks see the path', async (t) => {
  const seen: string[] = []
  const definition: ServiceDefinition<Config> = {
    ...SAMPLE,
    app: async (fastify) => {
      fastify.addHook('onRequest', async (request) => {
        seen.push(request.url)
      })
      fastify.get('/auth/*', async () => ({ ok: true }))
    },
  }
  const app = await buildService(definition, loadServiceConfig(definition, { LOG_LEVEL: 'silent' }))
  t.teardown(() => app.close())
  const url = new URL(await app.listen({ host: '127.0.0.1', port: 0 }))
  // Sent as written: fetch and inject would resolve the dots first.
  const get = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      httpRequest({ host: url.hostname, port: url.port, path, agent: false }, (response) => {
        let body = ''
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
      })
        .on('error', reject)
        .end()
    })

  const refused = await get('/auth/%2e/token?x=1')
  t.equal(refused.status, 400)
  t.match(JSON.parse(refused.body), { statusCode: 400, code: 'BAD_REQUEST', message: /encoded "\."/ })
  t.match(JSON.parse((await get('/nowhere/../auth/token')).body), { code: 'BAD_REQUEST' }, 'unknown routes too')
  t.same(seen, [], "the app's hooks never ran")
  t.equal((await get('/auth/token?next=/../x')).status, 200, 'the query string is not judged')
  t.same(seen, ['/auth/token?next=/../x'])
})
