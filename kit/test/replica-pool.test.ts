import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, LookupFunction } from 'node:net'
import t, { type Test } from 'tap'
import { REPLICA_CLOSING_HEADER, ReplicaPool } from '../src/replica-pool.js'

// Replicas on one port of three loopback addresses, as a service's name resolves to several
// addresses in Compose or behind a Kubernetes headless Service.
const ADDRESSES = ['127.0.0.1', '127.0.0.2', '127.0.0.3']

interface Replicas {
  port: number
  /** Requests each address served, by address. */
  served: Map<string, number>
  stop(address: string): Promise<void>
  start(address: string): Promise<void>
  close(): Promise<void>
}

async function replicas(
  t: Test,
  handler: (address: string, req: IncomingMessage, res: ServerResponse) => void = (_address, _req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}'),
): Promise<Replicas> {
  const servers = new Map<string, Server>()
  const served = new Map(ADDRESSES.map((address) => [address, 0]))
  let port = 0
  const start = async (address: string) => {
    const server = createServer((req, res) => {
      served.set(address, (served.get(address) ?? 0) + 1)
      handler(address, req, res)
    })
    server.listen(port, address)
    await once(server, 'listening')
    port = (server.address() as AddressInfo).port
    servers.set(address, server)
  }
  const stop = async (address: string) => {
    const server = servers.get(address)
    servers.delete(address)
    if (!server) return
    server.closeAllConnections()
    server.close()
    await once(server, 'close')
  }
  for (const address of ADDRESSES) await start(address)
  const all = { port, served, stop, start, close: () => Promise.all(ADDRESSES.map(stop)).then(() => {}) }
  t.teardown(all.close)
  return all
}

/** The system resolver's answer for a name nobody has, without asking a DNS server (CI may have none). */
const noSuchName: LookupFunction = (hostname, _options, callback) =>
  callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0)

function pool(t: Test, port: number, resolve: () => Promise<string[]>) {
  const replicaPool = new ReplicaPool(`http://movies.test:${port}`, {
    // Connections by the name itself (when no replica is known) look it up here.
    pool: { connections: 4, connect: { timeout: 500, lookup: noSuchName } },
    refreshMs: 60_000,
    resolve,
  })
  t.teardown(() => replicaPool.close())
  return replicaPool
}

async function get(dispatcher: ReplicaPool, method: 'GET' | 'POST' | 'PUT' = 'GET') {
  const response = await dispatcher.request({ method, path: '/movies', body: method === 'GET' ? null : '{}' })
  await response.body.text()
  return response.statusCode
}

t.test('calls go round robin over every address the name resolves to', async (t) => {
  const { port, served } = await replicas(t)
  const dispatcher = pool(t, port, async () => ADDRESSES)
  await dispatcher.refresh()
  t.same(
    dispatcher.origins,
    ADDRESSES.map((address) => `http://${address}:${port}`),
  )
  for (let call = 0; call < 30; call += 1) t.equal(await get(dispatcher), 200)
  t.same([...served.values()], [10, 10, 10], 'ten each')
})

t.test("the Host header names the service, not the replica's address", async (t) => {
  const hosts: (string | undefined)[] = []
  const { port } = await replicas(t, (_address, req, res) => {
    hosts.push(req.headers.host)
    res.writeHead(200).end()
  })
  const dispatcher = pool(t, port, async () => ADDRESSES)
  await dispatcher.refresh()
  for (const headers of [undefined, { accept: 'application/json' }, ['accept', 'application/json']]) {
    const response = await dispatcher.request({ method: 'GET', path: '/movies', headers })
    await response.body.text()
  }
  const named = await dispatcher.request({ method: 'GET', path: '/movies', headers: { Host: 'other:1' } })
  await named.body.text()
  const unset = await dispatcher.request({ method: 'GET', path: '/movies', headers: { host: undefined } })
  await unset.body.text()
  t.same(hosts, [`movies.test:${port}`, `movies.test:${port}`, `movies.test:${port}`, 'other:1', `movies.test:${port}`])
})

t.test('a replica that is down: every idempotent call still answered, the replica then passed by', async (t) => {
  const { port, served, stop } = await replicas(t)
  const dispatcher = pool(t, port, async () => ADDRESSES)
  await dispatcher.refresh()
  await stop('127.0.0.2')
  const answers = []
  for (let call = 0; call < 30; call += 1) answers.push(await get(dispatcher, call % 2 ? 'GET' : 'PUT'))
  t.same(new Set(answers), new Set([200]), 'no call failed')
  t.equal((served.get('127.0.0.1') ?? 0) + (served.get('127.0.0.3') ?? 0), 30, 'the two live replicas served all')
  t.equal(served.get('127.0.0.2'), 0)
})

t.test('cut off before any answer: an idempotent call is sent once more, elsewhere; a POST is not', async (t) => {
  const { port, served } = await replicas(t, (address, _req, res) => {
    // 127.0.0.1 dies with every request it takes.
    if (address === '127.0.0.1') res.socket?.destroy()
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
  const dispatcher = pool(t, port, async () => ADDRESSES)
  await dispatcher.refresh()
  for (let call = 0; call < 6; call += 1) t.equal(await get(dispatcher, 'PUT'), 200, `PUT ${call}`)
  t.equal(served.get('127.0.0.1'), 3, 'the dying replica took its turns (calls 1, 3 and 5)')
  t.equal((served.get('127.0.0.2') ?? 0) + (served.get('127.0.0.3') ?? 0), 6, 'the others answered every call')

  const outcomes = []
  for (let call = 0; call < 3; call += 1) outcomes.push(await get(dispatcher, 'POST').catch((error) => error.code))
  t.same(
    outcomes.filter((outcome) => outcome !== 200),
    ['UND_ERR_SOCKET'],
    'the POST it took failed, not resent',
  )
})

t.test('the name resolved again: new replicas join, vanished ones leave', async (t) => {
  const { port, served, stop } = await replicas(t)
  let resolved = ['127.0.0.1']
  let failure: string | undefined
  const dispatcher = pool(t, port, async () => {
    if (failure) throw Object.assign(new Error(`lookup failed: ${failure}`), { code: failure })
    return resolved
  })
  await dispatcher.refresh()
  for (let call = 0; call < 4; call += 1) await get(dispatcher)
  t.same([...served.values()], [4, 0, 0])

  resolved = ['127.0.0.1', '127.0.0.2', '127.0.0.3']
  await dispatcher.refresh()
  for (let call = 0; call < 6; call += 1) await get(dispatcher)
  t.same([...served.values()], [6, 2, 2], 'the new ones get their share')

  resolved = ['127.0.0.3']
  await dispatcher.refresh()
  for (let call = 0; call < 4; call += 1) await get(dispatcher)
  t.same([...served.values()], [6, 2, 6], 'only the one left')

  // DNS failing for a moment keeps the known ones.
  failure = 'EAI_AGAIN'
  await dispatcher.refresh()
  t.same(dispatcher.origins, [`http://127.0.0.3:${port}`], 'DNS failing: the known replica stays')
  t.equal(await get(dispatcher), 200)
  // No such name, but the known replica works: a spurious answer, kept.
  failure = 'ENOTFOUND'
  await dispatcher.refresh()
  t.same(dispatcher.origins, [`http://127.0.0.3:${port}`], 'no such name, replica fine: kept')
  // The last replica stopped and the name is gone: calls go to the name and fail at once.
  await stop('127.0.0.3')
  const failed = await get(dispatcher).catch((error) => error.code)
  t.ok(['ECONNREFUSED', 'ENOTFOUND'].includes(failed), `the call failed: ${failed}`)
  t.same(dispatcher.origins, [`http://movies.test:${port}`], 'no such name, no replica: the name itself')
  t.equal(await get(dispatcher).catch((error) => error.code), 'ENOTFOUND', 'fails at once')
})

t.test('an IP address or localhost is one replica, never resolved', async (t) => {
  let resolutions = 0
  for (const host of ['127.0.0.1', 'localhost', '[::1]']) {
    const dispatcher = new ReplicaPool(`http://${host}:5001`, {
      pool: {},
      refreshMs: 100,
      resolve: async () => {
        resolutions += 1
        return ADDRESSES
      },
    })
    t.teardown(() => dispatcher.close())
    t.same(dispatcher.origins, [`http://${host}:5001`])
  }
  await new Promise((resolve) => setTimeout(resolve, 250))
  t.equal(resolutions, 0)
})

t.test('a replica turning calls away while it closes: the call goes to another, whatever its method', async (t) => {
  const { port, served } = await replicas(t, (address, _req, res) => {
    if (address === '127.0.0.1')
      res.writeHead(503, { [REPLICA_CLOSING_HEADER]: '1', connection: 'close' }).end('{"message":"shutting down"}')
    else res.writeHead(201, { 'content-type': 'application/json' }).end('{}')
  })
  const dispatcher = pool(t, port, async () => ADDRESSES)
  await dispatcher.refresh()
  for (let call = 0; call < 3; call += 1) t.equal(await get(dispatcher, 'POST'), 201, `POST ${call}`)
  t.equal(served.get('127.0.0.1'), 1, 'the closing replica was asked once')
})

t.test('a DELETE cut off after it was sent is not sent again (it may have been done); a GET is', async (t) => {
  const { port, served } = await replicas(t, (address, req, res) => {
    if (address === '127.0.0.1') res.socket?.destroy()
    else res.writeHead(req.method === 'DELETE' ? 204 : 200).end()
  })
  const dispatcher = pool(t, port, async () => ADDRESSES)
  await dispatcher.refresh()
  const remove = await dispatcher.request({ method: 'DELETE', path: '/bookings/x' }).catch((error) => error)
  t.equal(remove.code, 'UND_ERR_SOCKET', 'the DELETE fails as it happened')
  const read = await dispatcher.request({ method: 'GET', path: '/movies' })
  t.equal(read.statusCode, 200, 'the GET landed on another replica')
  t.same([...served.values()], [1, 1, 0])
})

t.test('one resolution at a time, however slow the resolver', async (t) => {
  let resolutions = 0
  const dispatcher = pool(t, 5001, async () => {
    resolutions += 1
    await new Promise((resolve) => setTimeout(resolve, 100))
    return ['127.0.0.1']
  })
  await dispatcher.refresh()
  t.equal(resolutions, 1, 'a call during the first resolution (started by the constructor) waits for it')
  await Promise.all([dispatcher.refresh(), dispatcher.refresh(), dispatcher.refresh()])
  t.equal(resolutions, 2, 'three calls at once share one')
})

t.test('a call aborted while its retry waits is not sent again', async (t) => {
  const { port, served, stop } = await replicas(t)
  // One replica, down: the retry would go to it again after a pause.
  const dispatcher = pool(t, port, async () => ['127.0.0.2'])
  await dispatcher.refresh()
  await stop('127.0.0.2')
  const controller = new AbortController()
  setTimeout(() => controller.abort(new Error('caller gave up')), 5)
  const error = await dispatcher.request({ method: 'GET', path: '/movies', signal: controller.signal }).catch((e) => e)
  t.match(error, { message: 'caller gave up' })
  t.equal(served.get('127.0.0.2'), 0)
})
