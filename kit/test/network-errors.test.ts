import { connect } from 'node:net'
import t from 'tap'
import { Pool } from 'undici'
import { deadUrl, stub } from '../../test/helpers/servers.js'
import { classifyNetworkError, networkErrorCode, neverConnected } from '../src/network-errors.js'

const withCode = (code: string) => Object.assign(new Error(code), { code })

t.test('the code is read from the error or the error it wraps', async (t) => {
  t.equal(networkErrorCode(withCode('ECONNREFUSED')), 'ECONNREFUSED')
  t.equal(networkErrorCode(new Error('wrapped', { cause: withCode('ECONNRESET') })), 'ECONNRESET')
  t.equal(
    networkErrorCode(Object.assign(new Error('reply-from'), { code: 'FST_REPLY_FROM', cause: withCode('EPIPE') })),
    'EPIPE',
    'the wrapped cause is the root',
  )
  t.equal(networkErrorCode(Object.assign(new Error('numeric'), { code: 42 })), undefined)
  t.equal(networkErrorCode('ECONNREFUSED'), undefined, 'a string is not an error')
  t.equal(networkErrorCode(null), undefined)
})

t.test('connect failures, timeouts and everything else', async (t) => {
  for (const code of [
    'ECONNREFUSED',
    'ECONNRESET',
    'EPIPE',
    'ETIMEDOUT',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'UND_ERR_CONNECT_TIMEOUT',
    'UND_ERR_SOCKET',
  ]) {
    t.equal(classifyNetworkError(withCode(code)), 'connect', code)
  }
  for (const code of ['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']) {
    t.equal(classifyNetworkError(withCode(code)), 'timeout', code)
  }
  for (const code of ['08006', '23505', 'UND_ERR_INVALID_ARG', 'UND_ERR_CLOSED', 'FST_ERR_VALIDATION']) {
    t.equal(classifyNetworkError(withCode(code)), 'other', code)
  }
  t.equal(classifyNetworkError(new Error('no code')), 'other')
  t.equal(classifyNetworkError(undefined), 'other')
})

t.test('never connected: only failures before any connection, not resets after one', async (t) => {
  for (const code of [
    'ECONNREFUSED',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'ENOTFOUND',
    'EAI_AGAIN',
    'UND_ERR_CONNECT_TIMEOUT',
  ]) {
    t.ok(neverConnected(new Error('wrapped', { cause: withCode(code) })), code)
  }
  for (const code of ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'ETIMEDOUT']) {
    t.notOk(neverConnected(withCode(code)), `${code}: the peer may have acted on it`)
  }
  t.notOk(neverConnected(undefined))
})

t.test('what Node and undici really raise is classified', async (t) => {
  const { hostname, port } = new URL(await deadUrl())
  const refused = await new Promise<Error>((resolve) => connect(Number(port), hostname).on('error', resolve))
  t.equal(classifyNetworkError(refused), 'connect', 'a refused connection')

  const { url, close } = await stub(() => {}) // never answers
  const pool = new Pool(url, { headersTimeout: 50 })
  t.teardown(async () => {
    await pool.close()
    await close()
  })
  const slow = await pool.request({ method: 'GET', path: '/' }).catch((error: unknown) => error)
  t.equal(classifyNetworkError(slow), 'timeout', 'no answer in time')
})
