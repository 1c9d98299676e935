import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeGateway {
  url: string
  /** The path and query of every request that reached it, in order. */
  received: string[]
  /** Stops it (again is fine), as a gateway that went down. */
  close(): Promise<void>
}

/** Stands in for the gateway: answers every request with JSON naming the path it was asked for. */
export async function startFakeGateway(): Promise<FakeGateway> {
  const received: string[] = []
  const server = createServer((request, response) => {
    received.push(request.url ?? '')
    response.setHeader('content-type', 'application/json; charset=utf-8')
    response.end(JSON.stringify({ answeredBy: 'fake gateway', path: request.url }))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: async () => {
      if (!server.listening) return
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}
