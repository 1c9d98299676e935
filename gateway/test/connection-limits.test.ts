// One client cannot take the gateway's connections from everyone else: each address may hold
// MAX_CONNECTIONS_PER_CLIENT (64 by default) open, but the proxies it trusts, which bring many
// people through one address. On Linux every 127.x.y.z is this machine: each is a client of its own.
import t, { type Test } from 'tap'
import { build, listen } from '../../test/helpers/servers.js'
import { getFrom, idleConnections, KeepAliveConnection } from '../../test/helpers/slow-client.js'
import { gatewayService } from '../src/app.js'

async function gateway(t: Test, env: Record<string, string> = {}) {
  return listen(await build(t, gatewayService, { KEEP_ALIVE_TIMEOUT_MS: '60000', ...env }))
}

t.test('a client holding 600 idle connections does not stop another client’s requests', async (t) => {
  const url = await gateway(t)
  const before = await getFrom(`${url}/livez`, '127.0.0.3')
  t.equal(before.status, 200)
  const idle = await idleConnections(url, 600, '127.0.0.2')
  t.teardown(() => idle.close())
  const meanwhile = await getFrom(`${url}/livez`, '127.0.0.3')
  t.comment(`another client's request: ${Math.round(before.ms)} ms before, ${Math.round(meanwhile.ms)} ms meanwhile`)
  t.equal(meanwhile.status, 200, 'answered, not refused (MAX_CONNECTIONS is 512)')
  // Promptly: within what the same request took before, with room for a busy machine.
  t.ok(meanwhile.ms < Math.max(2_000, 10 * before.ms), `in ${Math.round(meanwhile.ms)} ms`)
  t.ok(idle.open() <= 64, `the idle client holds ${idle.open()} connections, not 600`)
})

t.test('the 65th connection of one client is closed at once; a trusted proxy may hold more', async (t) => {
  const url = await gateway(t, { TRUST_PROXY: '127.0.0.4' })
  const connections: KeepAliveConnection[] = []
  t.teardown(() => {
    for (const connection of connections) connection.close()
  })
  const openFrom = async (address: string, count: number) => {
    const opened = await Promise.all(Array.from({ length: count }, () => KeepAliveConnection.open(url, address)))
    connections.push(...opened)
    return Promise.all(opened.map((connection) => connection.get('/livez')))
  }
  const sixtyFour = await openFrom('127.0.0.2', 64)
  t.equal(sixtyFour.filter((status) => status === 200).length, 64, '64 served')
  t.same(await openFrom('127.0.0.2', 1), [null], 'the 65th closed without an answer')
  const proxy = await openFrom('127.0.0.4', 100)
  t.equal(proxy.filter((status) => status === 200).length, 100, 'the UI’s proxy (TRUST_PROXY) holds 100')
})
