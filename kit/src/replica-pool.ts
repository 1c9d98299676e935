import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Dispatcher, Pool } from 'undici'
import { classifyNetworkError } from './network-errors.js'

export interface ReplicaPoolOptions {
  /** Options of the keep-alive pool kept to each replica. */
  pool: Pool.Options
  /** How often the service's host name is resolved again: new replicas join, vanished ones leave. */
  refreshMs: number
  /** The addresses a host name stands for (by default the system resolver's, every one of them). */
  resolve?: (hostname: string) => Promise<string[]>
}

interface Replica {
  readonly origin: string
  readonly pool: Pool
  /** Until when new calls pass this replica by: it just refused or dropped a connection. */
  avoidUntil: number
}

// Sending these again cannot do twice what the caller asked once (our PUT and DELETE included).
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'])
// With a single replica, the one retry goes to it again after a short pause (a restart's gap).
const SAME_REPLICA_BACKOFF_MS = { min: 20, max: 120 }

async function resolveAll(hostname: string): Promise<string[]> {
  return (await lookup(hostname, { all: true })).map(({ address }) => address)
}

function originOf(url: URL, address: string): string {
  return `${url.protocol}//${isIP(address) === 6 ? `[${address}]` : address}:${url.port || 80}`
}

/**
 * Every replica of one service behind one undici dispatcher, for the peer client and the gateway.
 * The service's host name is resolved every `refreshMs` (Compose gives one name several addresses,
 * so does a Kubernetes headless Service), one pool is kept per address, and calls go round robin.
 * A replica that refuses a connection is passed by until it connects again or leaves the name.
 * An idempotent call that failed to connect, or was cut off before any byte of an answer, is sent
 * once more, on another replica when there is one: a caller sees no error when one replica dies.
 * An IP address or `localhost` is one replica, never resolved (what `npm start` uses).
 */
export class ReplicaPool extends Dispatcher {
  readonly #url: URL
  readonly #options: ReplicaPoolOptions
  #replicas: Replica[]
  #next = 0
  #refreshing: NodeJS.Timeout | undefined
  #closed = false

  constructor(baseUrl: string, options: ReplicaPoolOptions) {
    super()
    this.#url = new URL(baseUrl)
    this.#options = options
    // The name itself until the first resolution: calls work from the first moment.
    this.#replicas = [this.#replica(this.#url.origin)]
    const { hostname } = this.#url
    if (isIP(hostname.replace(/^\[|\]$/g, '')) || hostname === 'localhost') return
    void this.refresh()
    this.#refreshing = setInterval(() => void this.refresh(), options.refreshMs).unref()
  }

  /** The origins calls are spread over now. */
  get origins(): string[] {
    return this.#replicas.map(({ origin }) => origin)
  }

  /** Resolves the host name again and makes the replicas match its addresses. */
  async refresh(): Promise<void> {
    let addresses: string[]
    try {
      addresses = await (this.#options.resolve ?? resolveAll)(this.#url.hostname)
    } catch {
      return // Unresolvable for now (all replicas gone, DNS restarting): keep calling the known ones.
    }
    if (this.#closed || addresses.length === 0) return
    const wanted = new Set(addresses.map((address) => originOf(this.#url, address)))
    const kept = this.#replicas.filter(({ origin }) => wanted.has(origin))
    const known = new Set(kept.map(({ origin }) => origin))
    const added = [...wanted].filter((origin) => !known.has(origin)).map((origin) => this.#replica(origin))
    for (const { origin, pool } of this.#replicas) {
      // A replica that left finishes what it was sent, then its connections close.
      if (!wanted.has(origin)) void pool.close().catch(() => {})
    }
    this.#replicas = [...kept, ...added]
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const replica = this.#pick()
    // undici's request() (the peer client's, reply-from's) gives handlers of the onHeaders kind.
    const retryable =
      IDEMPOTENT.has(options.method) &&
      replayable(options.body) &&
      !('onRequestStart' in handler && handler.onRequestStart)
    return replica.pool.dispatch(options, retryable ? this.#retryingOnce(options, handler, replica) : handler)
  }

  override async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#refreshing)
    await Promise.all(this.#replicas.map(({ pool }) => pool.close()))
  }

  override async destroy(): Promise<void> {
    this.#closed = true
    clearInterval(this.#refreshing)
    await Promise.all(this.#replicas.map(({ pool }) => pool.destroy()))
  }

  #replica(origin: string): Replica {
    const replica: Replica = { origin, pool: new Pool(origin, this.#options.pool), avoidUntil: 0 }
    replica.pool.on('connectionError', () => {
      replica.avoidUntil = Date.now() + this.#options.refreshMs
    })
    replica.pool.on('connect', () => {
      replica.avoidUntil = 0
    })
    return replica
  }

  /** The next replica round robin, passing by `other` and those being avoided while others are left. */
  #pick(other?: Replica): Replica {
    const replicas = this.#replicas
    const now = Date.now()
    let fallback: Replica | undefined
    for (let step = 0; step < replicas.length; step += 1) {
      const replica = replicas[(this.#next + step) % replicas.length] as Replica
      if (replica === other) continue
      if (replica.avoidUntil <= now) {
        this.#next = (this.#next + step + 1) % replicas.length
        return replica
      }
      fallback ??= replica
    }
    this.#next = (this.#next + 1) % replicas.length
    return fallback ?? other ?? (replicas[0] as Replica)
  }

  /** `handler`, except that one failure before any answer sends the call again. */
  #retryingOnce(
    options: Dispatcher.DispatchOptions,
    handler: Dispatcher.DispatchHandler,
    first: Replica,
  ): Dispatcher.DispatchHandler {
    let answered = false
    let retried = false
    const wrapped: Dispatcher.DispatchHandler = {
      // undici passes a context too (the typings leave it out); it goes on as it came.
      onConnect: (...args: Parameters<NonNullable<Dispatcher.DispatchHandler['onConnect']>>) =>
        (handler.onConnect as ((...args: unknown[]) => void) | undefined)?.(...args),
      onUpgrade: (statusCode, headers, socket) => handler.onUpgrade?.(statusCode, headers, socket),
      onResponseStarted: () => handler.onResponseStarted?.(),
      onHeaders: (statusCode, headers, resume, statusText) => {
        answered = true
        return handler.onHeaders?.(statusCode, headers, resume, statusText) ?? true
      },
      onData: (chunk) => handler.onData?.(chunk) ?? true,
      onComplete: (trailers) => handler.onComplete?.(trailers),
      onBodySent: (chunk, totalSent) => handler.onBodySent?.(chunk, totalSent),
      onError: (error) => {
        if (answered || retried || this.#closed || classifyNetworkError(error) !== 'connect') {
          handler.onError?.(error)
          return
        }
        retried = true
        const next = this.#pick(first)
        const pause =
          next === first
            ? SAME_REPLICA_BACKOFF_MS.min + Math.random() * (SAME_REPLICA_BACKOFF_MS.max - SAME_REPLICA_BACKOFF_MS.min)
            : 0
        sleep(pause).then(() => {
          try {
            next.pool.dispatch(options, wrapped)
          } catch (dispatchError) {
            handler.onError?.(dispatchError as Error)
          }
        })
      },
    }
    return wrapped
  }
}

/** Whether a body can be sent a second time (a stream is consumed by the first attempt). */
function replayable(body: Dispatcher.DispatchOptions['body']): boolean {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array
}
