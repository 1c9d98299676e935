// Who a client is for the edges' limits: RATE_LIMIT_ALLOW matched however an address is written,
// and the rate limits' key an IPv6 /64.
import Fastify from 'fastify'
import t from 'tap'
import { allowListed, perClientRateLimit } from '../src/index.js'

t.test('RATE_LIMIT_ALLOW matches an address however it is written', async (t) => {
  const allowed = allowListed('10.0.0.5, 2001:db8::7,::1')
  for (const address of ['10.0.0.5', '::ffff:10.0.0.5', '::ffff:a00:5', '2001:DB8::7', '2001:db8:0:0:0:0:0:7', '::1']) {
    t.ok(allowed(address), `${address} allowed`)
  }
  for (const address of ['10.0.0.6', '2001:db8::8', '::2', '::ffff:10.0.0.6', 'not an address', '']) {
    t.notOk(allowed(address), `${JSON.stringify(address)} not allowed`)
  }
  t.notOk(allowListed('none')('127.0.0.1'), 'none: nobody')
  t.throws(() => allowListed('127.0.0.1,localhost'), /RATE_LIMIT_ALLOW: localhost is not an IP address/)
})

t.test('behind a dual-stack listener, an allow-listed IPv4 client is not limited; its neighbours are', async (t) => {
  const app = Fastify()
  await app.register(import('@fastify/rate-limit'), {
    max: 1,
    timeWindow: 60_000,
    ...perClientRateLimit('10.0.0.5,::1'),
  })
  app.get('/', async () => 'ok')
  const statuses = async (remoteAddress: string) => {
    const answers = []
    for (let index = 0; index < 3; index++) answers.push((await app.inject({ url: '/', remoteAddress })).statusCode)
    return answers
  }
  t.same(await statuses('::ffff:10.0.0.5'), [200, 200, 200], 'the allow-listed address, IPv4-mapped')
  t.same(await statuses('::1'), [200, 200, 200], '::1, whose /64 key is ::')
  t.same(await statuses('::2'), [200, 429, 429], '::2, in ::1’s /64, counted')
  t.same(await statuses('::ffff:10.0.0.6'), [200, 429, 429], 'another IPv4 client, mapped')
  t.same(await statuses('2001:db8:1:1::1'), [200, 429, 429], 'an IPv6 client')
  t.same(await statuses('2001:db8:1:1::2'), [429, 429, 429], 'the same /64: the same budget')
})
