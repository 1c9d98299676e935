import t from 'tap'
import { Type } from 'typebox'
import { loadConfig } from '../src/config.js'
import { emptyRecord, ownValue, recordFromEntries } from '../src/records.js'
import { buildService, type ServiceDefinition } from '../src/service.js'
import { Config, SAMPLE } from './helpers/sample-service.js'

const PROTOTYPE_MEMBERS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']
const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort()

t.test('every key is an ordinary key, Object.prototype’s member names included', async (t) => {
  const byUser = emptyRecord<Record<string, string[]>>()
  for (const name of PROTOTYPE_MEMBERS) {
    t.equal(byUser[name], undefined, `${name} is not there before it is set`)
    const dates = byUser[name] ?? emptyRecord<string[]>()
    byUser[name] = dates
    dates['20151130'] = [name]
  }
  t.same(Object.keys(byUser), PROTOTYPE_MEMBERS)
  const [proto] = PROTOTYPE_MEMBERS as [string]
  t.same(byUser[proto], { '20151130': ['__proto__'] }, 'byUser.__proto__ is its own entry')
  t.same(JSON.parse(JSON.stringify(byUser)).constructor, { '20151130': ['constructor'] })

  const fromEntries = recordFromEntries(PROTOTYPE_MEMBERS.map((name) => [name, name.length]))
  t.same(
    Object.entries(fromEntries),
    PROTOTYPE_MEMBERS.map((name) => [name, name.length]),
  )

  const parsed: Record<string, number> = JSON.parse('{"a":1}')
  t.equal(ownValue(parsed, 'a'), 1)
  for (const name of PROTOTYPE_MEMBERS) t.equal(ownValue(parsed, name), undefined, `no inherited ${name}`)
  t.equal(ownValue(JSON.parse('{"__proto__":2}'), '__proto__'), 2, 'an own __proto__ is found')
  t.same(Object.getOwnPropertyNames(Object.prototype).sort(), PROTOTYPE_KEYS, 'Object.prototype untouched')
})

const ByName = Type.Record(Type.String(), Type.Record(Type.String(), Type.Array(Type.String())))

const sample: ServiceDefinition<Config> = {
  ...SAMPLE,
  app: async (fastify) => {
    fastify.get('/by-name', { schema: { operationId: 'byName', response: { 200: ByName } } }, async () =>
      recordFromEntries(
        ['dwight_schrute', ...PROTOTYPE_MEMBERS].map((name) => [name, recordFromEntries([['20151201', [name]]])]),
      ),
    )
  },
}

t.test('Fastify’s serializer sends every key of a record without a prototype, __proto__ too', async (t) => {
  const app = await buildService(sample, loadConfig(Config, { LOG_LEVEL: 'silent' }))
  t.teardown(() => app.close())
  const expected =
    '{"dwight_schrute":{"20151201":["dwight_schrute"]},"__proto__":{"20151201":["__proto__"]},' +
    '"constructor":{"20151201":["constructor"]},"toString":{"20151201":["toString"]},' +
    '"hasOwnProperty":{"20151201":["hasOwnProperty"]},"valueOf":{"20151201":["valueOf"]}}'

  const injected = await app.inject('/by-name')
  t.equal(injected.statusCode, 200)
  t.equal(injected.body, expected, 'through inject')

  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const response = await fetch(`${url}/by-name`)
  t.equal(response.status, 200)
  const text = await response.text()
  t.equal(text, expected, 'over HTTP')
  t.same(Object.keys(JSON.parse(text)), ['dwight_schrute', ...PROTOTYPE_MEMBERS], 'JSON.parse keeps them as own keys')
})
