// Real servers on ephemeral ports for tests: built services, stubs of peers, and dead addresses.
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type BaseConfig, buildService, type ServiceDefinition } from '@cinema/kit'
import type { FastifyInstance } from 'fastify'

/**
 * Builds a service from test settings: quiet logs, in-memory database, no load shedding on
 * event-loop lag (services built in one test process share its event loop: opening one's
 * database stalls them all), plus `env`.
 */
export async function buildTestService<Config extends BaseConfig>(
  definition: ServiceDefinition<Config>,
  loadConfig: (env: NodeJS.ProcessEnv) => Config,
  env: NodeJS.ProcessEnv = {},
): Promise<FastifyInstance> {
  return buildService(
    definition,
    loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: 'memory://', OVERLOAD_EVENT_LOOP_DELAY_MS: '0', ...env }),
  )
}

/** Listens on an ephemeral loopback port; returns the base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ host: '127.0.0.1', port: 0 })
}

export interface Stub {
  url: string
  server: Server
  requests: { method: string; url: string; headers: IncomingMessage['headers'] }[]
  close(): Promise<void>
}

/** A peer stand-in that records requests and answers with `handler`. */
export async function stub(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Stub> {
  const requests: Stub['requests'] = []
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers })
    handler(req, res)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    requests,
    close: async () => {
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}

export function json(res: ServerResponse, statusCode: number, body: unknown): void {
  res.writeHead(statusCode, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

/** A base URL where nothing listens: a peer that is down. */
export async function deadUrl(): Promise<string> {
  const down = await stub(() => {})
  await down.close()
  return down.url
}
