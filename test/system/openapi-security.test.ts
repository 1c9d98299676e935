// OpenAPI (issue 12, point 12): a bearer scheme, every protected operation marked with it, and the
// gateway's /docs offering the services' documents with it, so "Authorize" works there.
import t from 'tap'
import { bookingsService } from '../../bookings/src/app.js'
import { gatewayService } from '../../gateway/src/app.js'
import { usersService } from '../../users/src/app.js'
import { build, deadUrl, listen } from '../helpers/servers.js'

type Operation = { security?: unknown; responses?: Record<string, unknown> }
type Document = {
  paths: Record<string, Record<string, Operation>>
  components?: { securitySchemes?: Record<string, unknown> }
}

const BEARER = [{ bearerAuth: [] }]
const PROTECTED = [
  ['users', '/users/{username}', 'patch'],
  ['users', '/users/{username}', 'delete'],
  ['bookings', '/bookings/{username}/{date}/{movieId}', 'put'],
  ['bookings', '/bookings/{username}/{date}/{movieId}', 'delete'],
] as const
const PUBLIC = [
  ['users', '/users', 'get'],
  ['users', '/users', 'post'],
  ['users', '/auth/token', 'post'],
  ['users', '/.well-known/jwks.json', 'get'],
  ['bookings', '/bookings', 'get'],
] as const

t.test('every protected operation names the bearer scheme, as the gateway’s /docs serves it', async (t) => {
  const users = await build(t, usersService, { BOOKINGS_URL: await deadUrl() })
  const bookings = await build(t, bookingsService, { USERS_URL: await deadUrl() })
  const gateway = await build(t, gatewayService, {
    USERS_URL: await listen(users),
    BOOKINGS_URL: await listen(bookings),
  })

  for (const [label, documentOf] of [
    [
      'straight',
      async (service: string) => (await (service === 'users' ? users : bookings).inject('/openapi.json')).json(),
    ],
    ['through /docs', async (service: string) => (await gateway.inject(`/docs/services/${service}.json`)).json()],
  ] as const) {
    const documents = {
      users: (await documentOf('users')) as Document,
      bookings: (await documentOf('bookings')) as Document,
    }
    for (const document of Object.values(documents)) {
      t.same(
        document.components?.securitySchemes?.bearerAuth,
        {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'a token from POST /auth/token, valid for at most an hour',
        },
        `${label}: the scheme`,
      )
    }
    for (const [service, path, method] of PROTECTED) {
      const operation = documents[service].paths[path]?.[method]
      t.same(operation?.security, BEARER, `${label}: ${method} ${path} needs a token`)
      t.ok(
        operation?.responses?.['401'] && operation.responses['403'],
        `${label}: ${method} ${path} documents 401 and 403`,
      )
    }
    for (const [service, path, method] of PUBLIC) {
      const operation = documents[service].paths[path]?.[method]
      t.ok(operation, `${label}: ${method} ${path} is documented`)
      t.notOk(operation?.security, `${label}: ${method} ${path} is public`)
    }
    t.ok(documents.users.paths['/auth/token']?.post?.responses?.['429'], `${label}: sign-in documents its 429`)
  }
})
