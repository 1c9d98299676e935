// Raw TCP clients for timeout tests: a request sent a byte at a time, and keep-alive connections.
import { once } from 'node:events'
import { type ClientRequest, get } from 'node:http'
import { connect, type Socket } from 'node:net'

export interface TrickleResult {
  /** From the connection being open to the server closing it. */
  heldMs: number
  /** Bytes the client got written before the server closed the connection. */
  bytesSent: number
  /** What the server answered before closing, if anything (a 408). */
  answer: string
}

/**
 * Sends `head` (request line and headers), then the body one byte every `everyMs` (or, with
 * `headersToo`, the head itself byte by byte), until the server closes the connection or
 * `giveUpMs` passes.
 */
export async function trickle(
  url: string,
  options: { head: string; everyMs: number; giveUpMs: number; headersToo?: boolean },
): Promise<TrickleResult> {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  await once(socket, 'connect')
  const opened = performance.now()
  let answer = ''
  socket.on('data', (chunk) => {
    answer += chunk
  })
  socket.on('error', () => {})
  let bytesSent = 0
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  const drip = options.headersToo ? options.head : 'x'.repeat(1_000_000)
  if (!options.headersToo) socket.write(options.head)
  const timer = setInterval(() => {
    if (socket.destroyed || bytesSent >= drip.length) return
    socket.write(drip.charAt(bytesSent))
    bytesSent += 1
  }, options.everyMs)
  const gaveUp = setTimeout(() => socket.destroy(), options.giveUpMs)
  await closed
  clearInterval(timer)
  clearTimeout(gaveUp)
  return { heldMs: performance.now() - opened, bytesSent, answer }
}

/** A keep-alive connection that sends one GET at a time and reads its answer's status. */
export class KeepAliveConnection {
  readonly socket: Socket
  #buffer = ''
  #waiting: ((status: number) => void) | null = null
  readonly closed: Promise<void>

  private constructor(socket: Socket) {
    this.socket = socket
    socket.setEncoding('utf8')
    socket.on('error', () => {})
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()))
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk
      // Answers here are small JSON bodies with a content-length: one complete answer is enough.
      const head = /^HTTP\/1\.1 (\d{3})[\s\S]*?\r\ncontent-length: (\d+)\r\n[\s\S]*?\r\n\r\n/i.exec(this.#buffer)
      if (!head || this.#buffer.length < head[0].length + Number(head[2])) return
      this.#buffer = this.#buffer.slice(head[0].length + Number(head[2]))
      this.#waiting?.(Number(head[1]))
      this.#waiting = null
    })
  }

  /** Opened from `localAddress` when given: on Linux any 127.x.y.z is this machine, a client of its own. */
  static async open(url: string, localAddress?: string): Promise<KeepAliveConnection> {
    const { hostname, port } = new URL(url)
    const socket = connect({ port: Number(port), host: hostname, ...(localAddress ? { localAddress } : {}) })
    await once(socket, 'connect')
    return new KeepAliveConnection(socket)
  }

  /** The status of `GET path` on this connection, or null when the server closed it instead. */
  async get(path: string): Promise<number | null> {
    if (this.socket.destroyed) return null
    const answered = new Promise<number>((resolve) => {
      this.#waiting = resolve
    })
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`)
    return Promise.race([answered, this.closed.then(() => null)])
  }

  close(): void {
    this.socket.destroy()
  }
}

// Connections opened at once at most: more could overflow the listen backlog (a dropped SYN is
// sent again only a second later).
const CONNECT_BATCH = 50

/**
 * `count` connections to `url` from `localAddress` that send nothing, as a client holding a server's
 * connections would; resolves once each is connected (or refused). `close()` ends them all.
 */
export async function idleConnections(url: string, count: number, localAddress: string) {
  const { hostname, port } = new URL(url)
  const sockets: Socket[] = []
  for (let opened = 0; opened < count; opened += CONNECT_BATCH) {
    const batch = Array.from({ length: Math.min(CONNECT_BATCH, count - opened) }, () => {
      const socket = connect({ port: Number(port), host: hostname, localAddress })
      sockets.push(socket)
      socket.on('error', () => {})
      // Read, so that a close from the server is seen.
      socket.resume()
      return Promise.race([once(socket, 'connect'), once(socket, 'close')])
    })
    await Promise.all(batch)
  }
  return {
    /** How many the server has not closed (yet). */
    open: () => sockets.filter((socket) => !socket.destroyed).length,
    close: () => {
      for (const socket of sockets) socket.destroy()
    },
  }
}

// How long getFrom waits for an answer before it gives up (status null).
const GET_FROM_TIMEOUT_MS = 30_000

/** `GET url` on a new connection from `localAddress`: its status (null when refused, cut or not answered), body, and how long it took. */
export function getFrom(
  url: string,
  localAddress: string,
): Promise<{ status: number | null; body: string; ms: number }> {
  const started = performance.now()
  return new Promise((resolve) => {
    let body = ''
    const done = (status: number | null) => resolve({ status, body, ms: performance.now() - started })
    get(url, { localAddress, agent: false }, (response) => {
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        body += chunk
      })
      response.on('end', () => done(response.statusCode ?? null))
      response.on('error', () => done(null))
    })
      .setTimeout(GET_FROM_TIMEOUT_MS, function giveUp(this: ClientRequest) {
        this.destroy()
      })
      .on('error', () => done(null))
  })
}
