import t from 'tap'
import { Type } from 'typebox'
import { loadConfig } from '../src/config.js'
import { ErrorResponse } from '../src/errors.js'
import { exceedsJsonLimits, JSON_BODY_LIMITS } from '../src/json-body.js'
import { buildService, type ServiceDefinition } from '../src/service.js'
import { Config, SAMPLE } from './helpers/sample-service.js'

const definition: ServiceDefinition<Config> = {
  ...SAMPLE,
  app: async (fastify) => {
    fastify.post(
      '/things',
      {
        schema: {
          operationId: 'createThing',
          // As the services' bodies are: unknown keys refused, each one then listed by TypeBox.
          body: Type.Object(
            { name: Type.String(), tags: Type.Optional(Type.Array(Type.String())) },
            { additionalProperties: false },
          ),
          response: { 201: Type.Object({ name: Type.String() }), 400: ErrorResponse },
        },
      },
      async (request, reply) => reply.code(201).send({ name: request.body.name }),
    )
  },
}

/** `{"k0":0,"k1":1,…}` of about `bytes` bytes. */
function manyKeys(bytes: number): string {
  const parts: string[] = []
  let length = 2
  for (let index = 0; length < bytes; index++) {
    const part = `"k${index}":${index}`
    parts.push(part)
    length += part.length + 1
  }
  return `{${parts.join(',')}}`
}

const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`

t.test('the limits: depth from brackets, items from commas, nothing inside strings counted', async (t) => {
  const { depth, items } = JSON_BODY_LIMITS
  t.equal(exceedsJsonLimits(nested(depth)), null, `${depth} levels pass`)
  t.equal(exceedsJsonLimits(nested(depth + 1)), `body is nested more than ${depth} levels deep`)
  t.equal(exceedsJsonLimits('{"a":'.repeat(depth + 1)), `body is nested more than ${depth} levels deep`, 'unclosed')
  t.equal(exceedsJsonLimits(`[${'1,'.repeat(items - 1)}1]`), null, `${items} items pass`)
  t.equal(exceedsJsonLimits(`[${'1,'.repeat(items)}1]`), `body has more than ${items} keys and array items`)
  t.equal(exceedsJsonLimits(manyKeys(20_000)), `body has more than ${items} keys and array items`, 'keys count too')
  const inString = JSON.stringify({ name: `${'[{,'.repeat(5_000)}\\"[` })
  t.equal(exceedsJsonLimits(inString), null, 'brackets, commas and escaped quotes inside a string are text')
  t.equal(exceedsJsonLimits('{"a":"\\\\"}'), null, 'an escaped backslash ends before the closing quote')
})

t.test('every service refuses too deep or too large JSON with a 400 saying why, and parses the rest', async (t) => {
  const app = await buildService(definition, loadConfig(Config, { LOG_LEVEL: 'silent' }))
  t.teardown(() => app.close())
  const post = (payload: string | Buffer) =>
    app.inject({ method: 'POST', url: '/things', payload, headers: { 'content-type': 'application/json' } })

  const fine = await post(JSON.stringify({ name: 'x', tags: ['a', 'b'] }))
  t.equal(fine.statusCode, 201)
  t.same(fine.json(), { name: 'x' })
  t.equal((await post('{"name":"x","tags":["[","{",","]}')).statusCode, 201, 'brackets in strings are fine')

  const refused: [label: string, payload: string, message: string][] = [
    ['100,000 open brackets', '['.repeat(100_000), 'body is nested more than 32 levels deep'],
    ['100,000 nested arrays, well-formed', nested(100_000), 'body is nested more than 32 levels deep'],
    ['a 1 MB object of unknown keys', manyKeys(1_000_000), 'body has more than 1000 keys and array items'],
  ]
  for (const [label, payload, message] of refused) {
    const response = await post(payload)
    t.equal(response.statusCode, 400, label)
    t.same(response.json(), { statusCode: 400, error: 'Bad Request', message, code: 'BODY_TOO_LARGE' }, label)
  }

  // What Fastify's parser did before stays: empty, malformed, prototype poisoning.
  t.equal((await post('')).statusCode, 400, 'empty body')
  t.match((await post('{"name":')).json(), { statusCode: 400, message: /JSON/ })
  const poisoned = await post('{"name":"x","__proto__":{"admin":true}}')
  t.equal(poisoned.statusCode, 400, '__proto__ key refused')
  t.equal(
    (await post('{"name":"x","constructor":{"prototype":{"admin":true}}}')).statusCode,
    400,
    'constructor.prototype refused',
  )
})

t.test('a prototype-poisoning key is named as such, not called invalid JSON', async (t) => {
  const app = await buildService(definition, loadConfig(Config, { LOG_LEVEL: 'silent' }))
  t.teardown(() => app.close())
  const message = 'body must not have a "__proto__" key nor "constructor" with "prototype"'
  for (const payload of ['{"name":"x","__proto__":{"admin":true}}', '{"constructor":{"prototype":{"admin":true}}}']) {
    const response = await app.inject({
      method: 'POST',
      url: '/things',
      payload,
      headers: { 'content-type': 'application/json' },
    })
    t.same(response.json(), { statusCode: 400, error: 'Bad Request', message, code: 'BAD_REQUEST' }, payload)
  }
})

t.test('a body that is not valid UTF-8 is a 400, never stored with U+FFFD in its place', async (t) => {
  const app = await buildService(definition, loadConfig(Config, { LOG_LEVEL: 'silent' }))
  t.teardown(() => app.close())
  const post = (bytes: number[]) =>
    app.inject({
      method: 'POST',
      url: '/things',
      payload: Buffer.concat([Buffer.from('{"name":"a'), Buffer.from(bytes), Buffer.from('b"}')]),
      headers: { 'content-type': 'application/json' },
    })
  const malformed: [label: string, bytes: number[]][] = [
    ['a stray byte', [0xff]],
    ['an overlong NUL', [0xc0, 0x80]],
    ['an overlong slash', [0xe0, 0x80, 0xaf]],
    ['a lone surrogate', [0xed, 0xa0, 0x80]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['beyond U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ]
  for (const [label, bytes] of malformed) {
    const response = await post(bytes)
    t.same(
      response.json(),
      { statusCode: 400, error: 'Bad Request', message: 'body is not valid UTF-8', code: 'BAD_REQUEST' },
      label,
    )
  }
  const accepted = await post([...Buffer.from('ë🎬')])
  t.equal(accepted.statusCode, 201, 'multi-byte UTF-8 is fine')
  t.same(accepted.json(), { name: 'aë🎬b' })
})

t.test('the worst body costs a few ms of CPU, not a hundred', async (t) => {
  const app = await buildService(definition, loadConfig(Config, { LOG_LEVEL: 'silent' }))
  t.teardown(() => app.close())
  const worst = manyKeys(1_000_000)
  const send = () =>
    app.inject({ method: 'POST', url: '/things', payload: worst, headers: { 'content-type': 'application/json' } })
  await send() // warm-up
  const rounds = 10
  const started = process.cpuUsage()
  for (let round = 0; round < rounds; round++) t.equal((await send()).statusCode, 400)
  const used = process.cpuUsage(started)
  const perRequestMs = (used.user + used.system) / 1000 / rounds
  t.comment(`CPU per 1 MB body of unknown keys (inject included): ${perRequestMs.toFixed(1)} ms`)
  // Parsing it and listing its unknown keys cost 100-200 ms; refusing it costs a few.
  t.ok(perRequestMs < 30, `${perRequestMs.toFixed(1)} ms of CPU per request`)
})
