import t from 'tap'
import { Type } from 'typebox'
import { ConfigError, loadConfig, serviceConfigSchema } from '../src/config.js'

const Schema = serviceConfigSchema(5001, { FEATURE_LIMIT: Type.Integer({ minimum: 1, default: 3 }) })

t.test('defaults apply when the environment says nothing', async (t) => {
  t.same(loadConfig(Schema, {}), {
    HOST: '127.0.0.1',
    PORT: 5001,
    LOG_LEVEL: 'info',
    ACCESS_LOG_LEVEL: 'debug',
    SHUTDOWN_GRACE_MS: 10_000,
    OVERLOAD_EVENT_LOOP_DELAY_MS: 1_000,
    OVERLOAD_HEAP_PERCENT: 90,
    OVERLOAD_RSS_PERCENT: 90,
    REQUEST_TIMEOUT_MS: 10_000,
    HEADERS_TIMEOUT_MS: 5_000,
    KEEP_ALIVE_TIMEOUT_MS: 5_000,
    CONNECTION_TIMEOUT_MS: 30_000,
    MAX_CONNECTIONS: 512,
    MAX_CONNECTIONS_PER_CLIENT: 0,
    FEATURE_LIMIT: 3,
  })
})

t.test('strings from the environment become the declared types; unrelated variables are ignored', async (t) => {
  const config = loadConfig(Schema, { PORT: '6001', FEATURE_LIMIT: '7', LOG_LEVEL: 'debug', PATH: '/bin' })
  t.equal(config.PORT, 6001)
  t.equal(config.FEATURE_LIMIT, 7)
  t.equal(config.LOG_LEVEL, 'debug')
  t.notOk('PATH' in config)
})

t.test('an empty variable counts as unset', async (t) => {
  t.equal(loadConfig(Schema, { PORT: '' }).PORT, 5001)
})

t.test('invalid values are rejected with one message naming each bad variable', async (t) => {
  const error = t.throws(() => loadConfig(Schema, { PORT: 'eighty', LOG_LEVEL: 'loud', FEATURE_LIMIT: '0' }))
  t.type(error, ConfigError)
  t.match((error as Error).message, /PORT/)
  t.match((error as Error).message, /LOG_LEVEL/)
  t.match((error as Error).message, /FEATURE_LIMIT must be >= 1/)
})

t.test('a port out of range is rejected', async (t) => {
  t.throws(() => loadConfig(Schema, { PORT: '70000' }), /PORT must be <= 65535/)
})
