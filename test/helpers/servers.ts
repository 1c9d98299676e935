// Real servers on ephemeral ports for tests: built services, stubs of peers, and dead addresses.
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { type AddressInfo, connect } from 'node:net'
import { type BaseConfig, buildService, IN_MEMORY, loadServiceConfig, type ServiceDefinition } from '@cinema/kit'
import type { FastifyInstance } from 'fastify'

/**
 * Builds a service from its definition with test settings, closed when `t` ends (as fastify/demo's
 * test helper): quiet logs, in-memory database, no load shedding on event-loop lag (services built
 * in one test process share its event loop: opening one's database stalls them all), plus `env`.
 */
export async function build<Config extends BaseConfig>(
  t: { teardown(close: () => Promise<unknown>): void },
  definition: ServiceDefinition<Config>,
  env: NodeJS.ProcessEnv = {},
  options: Parameters<typeof buildService>[2] = {},
): Promise<FastifyInstance> {
  const settings = { LOG_LEVEL: 'silent', DATA_DIR: IN_MEMORY, OVERLOAD_EVENT_LOOP_DELAY_MS: '0', ...env }
  const app = await buildService(definition, loadServiceConfig(definition, settings), options)
  t.teardown(() => app.close())
  return app
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

/**
 * A raw TCP connection to `url`, for what fetch and node:http will not send (two Host headers,
 * malformed requests, `Expect: 100-continue` step by step). `received` is everything read so far.
 */
export async function rawConnection(url: string) {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  await once(socket, 'connect')
  let received = ''
  const waiting = new Set<() => void>()
  socket.setEncoding('latin1')
  socket.on('data', (chunk: string) => {
    received += chunk
    for (const check of waiting) check()
  })
  const closed = new Promise<string>((resolve) => {
    socket.on('close', () => resolve(received))
    socket.on('error', () => {})
  })
  return {
    send: (text: string) => socket.write(text, 'latin1'),
    /** Resolves with what was received once `pattern` matches it; rejects after `timeoutMs`. */
    until: (pattern: RegExp, timeoutMs = 5_000) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(check)
          reject(new Error(`no ${pattern} within ${timeoutMs} ms; received ${JSON.stringify(received)}`))
        }, timeoutMs)
        const check = () => {
          if (!pattern.test(received)) return
          clearTimeout(timer)
          waiting.delete(check)
          resolve(received)
        }
        waiting.add(check)
        check()
      }),
    /** Everything received until the server closed the connection. */
    closed,
    destroy: () => socket.destroy(),
  }
}

/** Sends `text` on a new connection and returns all the server wrote before it closed. */
export async function rawRequest(url: string, text: string): Promise<string> {
  const connection = await rawConnection(url)
  connection.send(text)
  const timer = setTimeout(connection.destroy, 5_000)
  const received = await connection.closed
  clearTimeout(timer)
  return received
}

/** The status, head and parsed JSON body of the final response in `received` (after any 1xx). */
export function parseRawResponse(received: string): { status: number; head: string; body: unknown } {
  const final = received.replace(/^(HTTP\/1\.1 1\d\d [^\r]*\r\n(?:[^\r]+\r\n)*\r\n)+/, '')
  const split = final.indexOf('\r\n\r\n')
  const head = final.slice(0, split)
  let body = final.slice(split + 4)
  if (/\r\ntransfer-encoding: chunked/i.test(head)) {
    let whole = ''
    for (let at = 0; ; ) {
      const end = body.indexOf('\r\n', at)
      const size = Number.parseInt(body.slice(at, end), 16)
      if (!(size > 0)) break
      whole += body.slice(end + 2, end + 2 + size)
      at = end + 2 + size + 2
    }
    body = whole
  }
  return { status: Number(head.split(' ')[1]), head, body: body ? JSON.parse(body) : undefined }
}
