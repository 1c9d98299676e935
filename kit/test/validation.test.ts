import t, { type Test } from 'tap'
import { Type } from 'typebox'
import { loadConfig } from '../src/config.js'
import { ErrorResponse } from '../src/errors.js'
import { buildService, type ServiceDefinition } from '../src/service.js'
import { Config, SAMPLE } from './helpers/sample-service.js'

const Thing = Type.Object(
  {
    name: Type.String(),
    tags: Type.Optional(Type.Array(Type.String())),
    meta: Type.Optional(Type.Object({ note: Type.String() })),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
)

function sample(handled: string[]): ServiceDefinition<Config> {
  return {
    ...SAMPLE,
    app: async (fastify) => {
      fastify.get(
        '/things/:name',
        {
          schema: {
            operationId: 'getThing',
            params: Type.Object({ name: Type.String() }),
            querystring: Type.Object({
              limit: Type.Optional(Type.Integer({ minimum: 1 })),
              tag: Type.Optional(Type.String()),
            }),
            headers: Type.Object({ 'x-note': Type.Optional(Type.String()) }),
            response: { 200: Type.Object({ name: Type.String(), limit: Type.Integer() }), 400: ErrorResponse },
          },
        },
        async (request) => {
          handled.push(request.params.name)
          return { name: request.params.name, limit: request.query.limit ?? 0 }
        },
      )
      fastify.post(
        '/things',
        { schema: { operationId: 'createThing', body: Thing, response: { 201: Thing, 400: ErrorResponse } } },
        async (request, reply) => {
          handled.push(request.body.name)
          return reply.code(201).send(request.body)
        },
      )
    },
  }
}

async function build(t: Test) {
  const handled: string[] = []
  const app = await buildService(sample(handled), loadConfig(Config, { LOG_LEVEL: 'silent' }))
  t.teardown(() => app.close())
  return { app, handled }
}

const CONTROL = 'must not contain control characters'
const SURROGATE = 'must not contain lone surrogates (malformed UTF-16)'

t.test('control characters in a path parameter: 400 naming it, the handler never runs', async (t) => {
  const { app, handled } = await build(t)
  // NUL, other C0, tab and line feed, DEL, first and last C1 (U+0080, U+0085 NEL, U+009F)
  for (const encoded of ['%00', '%01', '%09', '%0A', '%1F', '%7F', '%C2%80', '%C2%85', '%C2%9F']) {
    const response = await app.inject(`/things/a${encoded}b`)
    t.equal(response.statusCode, 400, encoded)
    t.same(
      response.json(),
      { statusCode: 400, error: 'Bad Request', message: `params/name ${CONTROL}`, code: 'VALIDATION_FAILED' },
      encoded,
    )
  }
  t.same(handled, [])
})

t.test('control characters in a querystring value: 400 naming it, declared or not', async (t) => {
  const { app, handled } = await build(t)
  for (const [query, where] of [
    ['tag=a%00', 'querystring/tag'],
    ['limit=2&tag=%7F', 'querystring/tag'],
    ['other=%C2%9B', 'querystring/other'],
  ] as const) {
    const response = await app.inject(`/things/x?${query}`)
    t.equal(response.statusCode, 400, query)
    t.equal(response.json().message, `${where} ${CONTROL}`, query)
  }
  t.same(handled, [])
})

t.test('control characters and lone surrogates anywhere in a JSON body: 400 with the path', async (t) => {
  const { app, handled } = await build(t)
  const cases: [unknown, string][] = [
    [{ name: 'a\u0000b' }, `body/name ${CONTROL}`],
    [{ name: 'Kevin\nMalone' }, `body/name ${CONTROL}`],
    [{ name: 'ok', tags: ['fine', 'bad\u0085'] }, `body/tags/1 ${CONTROL}`],
    [{ name: 'ok', meta: { note: '\u007f' } }, `body/meta/note ${CONTROL}`],
    [
      { name: 'ok', labels: { 'bad\u0000key': 'v' } },
      `body/labels must not have property names with control characters`,
    ],
    [{ name: 'ok', labels: { key: 'v\u0001' } }, `body/labels/key ${CONTROL}`],
    [{ name: 'a\ud800' }, `body/name ${SURROGATE}`],
    [{ name: '\udc00b' }, `body/name ${SURROGATE}`],
    [{ name: 'ok', tags: ['\ud83d'] }, `body/tags/0 ${SURROGATE}`],
  ]
  for (const [body, message] of cases) {
    const response = await app.inject({ method: 'POST', url: '/things', payload: body as object })
    t.equal(response.statusCode, 400, message)
    t.same(response.json(), { statusCode: 400, error: 'Bad Request', message, code: 'VALIDATION_FAILED' }, message)
  }
  t.same(handled, [])
})

t.test('everything else passes: letters of any script, emoji, format characters, tabs in headers', async (t) => {
  const { app, handled } = await build(t)
  const names = ['dwight_schrute', 'Zoë Ångström', '北京', '😀 pair', 'e\u0301', 'zero\u200bwidth', 'nb\u00a0sp']
  for (const name of names) {
    const created = await app.inject({ method: 'POST', url: '/things', payload: { name, labels: { [name]: name } } })
    t.equal(created.statusCode, 201, name)
    t.same(created.json(), { name, labels: { [name]: name } })
    const read = await app.inject(`/things/${encodeURIComponent(name)}?tag=${encodeURIComponent(name)}`)
    t.equal(read.statusCode, 200, name)
  }
  const tabbed = await app.inject({ url: '/things/x', headers: { 'x-note': 'a\tb' } })
  t.equal(tabbed.statusCode, 200, 'headers are left to Node, which allows a tab in them')
  t.equal(handled.length, names.length * 2 + 1)
})

t.test('querystring keys named after Object.prototype members are ignored, not misread', async (t) => {
  const { app } = await build(t)
  for (const query of ['limit=2&__proto__=a', 'limit=2&constructor=a&toString=b', '__proto__=1&limit=2']) {
    const response = await app.inject(`/things/x?${query}`)
    t.equal(response.statusCode, 200, query)
    t.same(response.json(), { name: 'x', limit: 2 }, query)
  }
  t.equal((await app.inject('/things/x?limit=1.5&__proto__=a')).json().message, 'querystring/limit must be integer')
  t.same(Object.keys(Object.prototype), [], 'Object.prototype untouched')
})
