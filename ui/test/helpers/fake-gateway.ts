import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeGateway {
  url: string
  /** Every request that reached it, in order. */
  received: {
    method: string
    url: string
    requestId: string | undefined
    expect: string | undefined
    cookie: string | undefined
    requestedWith: string | undefined
    forwardedProto: string | undefined
    forwardedFor: string | undefined
    forwardedPrefix: string | undefined
    body: string
  }[]
  /** Answers the requests held under HELD_PATH. */
  release(): void
  /** Stops it (again is fine), as a gateway that went down. */
  close(): Promise<void>
}

/** The path below which the fake gateway holds its answers until `release()`: requests in progress. */
export const HELD_PATH = '/held'

/** The path below which the fake gateway answers 503, as the real one does while a service is down. */
export const UNAVAILABLE_PATH = '/unavailable'

/** What the fake gateway's `/auth/session` sets, as the real one sets the session cookie when signing in. */
export const SESSION_COOKIE = 'cinema_session=header.payload.signature; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600'

/**
 * Stands in for the gateway: answers every request with JSON naming the path it was asked for
 * (503 under UNAVAILABLE_PATH; with the session cookie set at /auth/session).
 */
export async function startFakeGateway(): Promise<FakeGateway> {
  const received: FakeGateway['received'] = []
  let release = () => {}
  const held = new Promise<void>((resolve) => {
    release = resolve
  })
  const server = createServer(async (request, response) => {
    let body = ''
    for await (const chunk of request) body += chunk
    received.push({
      method: request.method ?? '',
      url: request.url ?? '',
      requestId: request.headers['x-request-id'] as string | undefined,
      expect: request.headers.expect,
      cookie: request.headers.cookie,
      requestedWith: request.headers['x-requested-with'] as string | undefined,
      forwardedProto: request.headers['x-forwarded-proto'] as string | undefined,
      forwardedFor: request.headers['x-forwarded-for'] as string | undefined,
      forwardedPrefix: request.headers['x-forwarded-prefix'] as string | undefined,
      body,
    })
    response.setHeader('content-type', 'application/json; charset=utf-8')
    // As a gateway with its own security headers would; the UI must answer with its own instead.
    response.setHeader('content-security-policy', "default-src 'none'")
    response.setHeader('referrer-policy', 'same-origin')
    if (request.url === '/auth/session') response.setHeader('set-cookie', SESSION_COOKIE)
    response.statusCode = request.url?.startsWith(UNAVAILABLE_PATH) ? 503 : 200
    if (request.url?.startsWith(HELD_PATH)) await held
    response.end(JSON.stringify({ answeredBy: 'fake gateway', path: request.url }))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    release,
    close: async () => {
      release()
      if (!server.listening) return
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}
