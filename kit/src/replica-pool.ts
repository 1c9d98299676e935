import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { Dispatcher, Pool } from 'undici'
import { classifyNetworkError, networkErrorCode, neverConnected } from './network-errors.js'

export interface ReplicaPoolOptions {
  /** Options of the keep-alive pool kept to each replica. */
  pool: Pool.Options
  /** How often the service's host name is resolved again: new replicas join, vanished ones leave. */
  refreshMs: number
  /** The addresses a host name stands for (by default the system resolver's, of one family). */
  resolve?: (hostname: string) => Promise<string[]>
}

/**
 * On the `503` a replica answers while it shuts down, to a request it did not start: the caller's
 * ReplicaPool sends the request to another replica (safe for any method: nothing was done).
 */
export const REPLICA_CLOSING_HEADER = 'x-replica-closing'

interface Replica {
  readonly origin: string
  readonly pool: Pool
  /** Until when new calls pass this replica by: it just refused or dropped a connection. */
  avoidUntil: number
}

// Sending these again cannot do twice what the caller asked once (our PUT included: booking twice
// is one booking). DELETE too, but only while it had not been sent whole: a DELETE cut off after
// that may have been done, and sent again it would answer 404 for a cancel that happened.
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'])
// With a single replica, the one retry goes to it again after a short pause (a restart's gap).
const SAME_REPLICA_BACKOFF_MS = { min: 20, max: 120 }

/** The name's addresses of one family (IPv4 when it has any): a dual-stack replica counts once. */
async function resolveAll(hostname: string): Promise<string[]> {
  const answers = await lookup(hostname, { all: true })
  const family = answers.some((answer) => answer.family === 4) ? 4 : 6
  return answers.filter((answer) => answer.family === family).map(({ address }) => address)
}

function originOf(url: URL, address: string): string {
  const port = url.port || (url.protocol === 'https:' ? 443 : 80)
  return `${url.protocol}//${isIP(address) === 6 ? `[${address}]` : address}:${port}`
}

function jitterMs(): number {
  return SAME_REPLICA_BACKOFF_MS.min + Math.random() * (SAME_REPLICA_BACKOFF_MS.max - SAME_REPLICA_BACKOFF_MS.min)
}

function isClosingAnswer(statusCode: number, rawHeaders: Buffer[] | string[] | null): boolean {
  if (statusCode !== 503 || !rawHeaders) return false
  for (let index = 0; index < rawHeaders.length; index += 2) {
    if (String(rawHeaders[index]).toLowerCase() === REPLICA_CLOSING_HEADER) return true
  }
  return false
}

/** `options` with a Host header naming `host`, unless it has one. */
function withHost(options: Dispatcher.DispatchOptions, host: string): Dispatcher.DispatchOptions {
  const { headers } = options
  if (headers === undefined || headers === null) return { ...options, headers: { host } }
  if (Array.isArray(headers)) {
    for (let index = 0; index < headers.length; index += 2) {
      if (String(headers[index]).toLowerCase() === 'host') return options
    }
    return { ...options, headers: [...headers, 'host', host] }
  }
  if (typeof headers === 'object' && !(Symbol.iterator in headers)) {
    const record = headers as Record<string, unknown>
    // Most callers (reply-from, the peer client) write names in lower case: no scan then.
    if (record.host !== undefined) return options
    if (Object.entries(record).some(([name, value]) => name.toLowerCase() === 'host' && value !== undefined))
      return options
    return { ...options, headers: { ...record, host } as Dispatcher.DispatchOptions['headers'] }
  }
  return options
}

/** A handler as undici's request() gives it; core undici also calls `onRequestSent` (untyped). */
type LegacyHandler = Dispatcher.DispatchHandler & { onRequestSent?: () => void }

/** Whether a body can be sent a second time (a stream is consumed by the first attempt). */
function replayable(body: Dispatcher.DispatchOptions['body']): boolean {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array
}

/**
 * Every replica of one service behind one undici dispatcher, for the peer client and the gateway.
 * The service's host name is resolved every `refreshMs` (Compose gives one name several addresses,
 * so does a Kubernetes headless Service), one pool is kept per address, and calls go round robin.
 * A replica that refuses a connection is passed by until it connects again or leaves the name.
 * An idempotent call that failed to connect, or was cut off before any byte of an answer, is sent
 * once more, on another replica when there is one: a caller sees no error when one replica dies.
 * So is any call a replica turned away because it is shutting down (`REPLICA_CLOSING_HEADER`).
 * An IP address or `localhost` is one replica, never resolved (what `npm start` uses).
 */
export class ReplicaPool extends Dispatcher {
  readonly #url: URL
  readonly #options: ReplicaPoolOptions
  /** The Host a request names when connected to an address; none when connected by the name. */
  readonly #host: string | undefined
  #replicas: Replica[]
  /** Pools of replicas that left the name, finishing what they were sent. */
  readonly #draining = new Set<Pool>()
  #next = 0
  #refreshTimer: NodeJS.Timeout | undefined
  #resolving: Promise<void> | undefined
  /** Whether the host is a name to resolve (not an IP address, not localhost). */
  readonly #resolvable: boolean
  #closed = false

  constructor(baseUrl: string, options: ReplicaPoolOptions) {
    super()
    this.#url = new URL(baseUrl)
    this.#options = options
    // The name itself until the first resolution: calls work from the first moment.
    this.#replicas = [this.#replica(this.#url.origin)]
    const { hostname } = this.#url
    this.#resolvable = !isIP(hostname.replace(/^\[|\]$/g, '')) && hostname !== 'localhost'
    this.#host = this.#resolvable ? this.#url.host : undefined
    if (this.#resolvable) void this.refresh().finally(() => this.#scheduleRefresh())
  }

  /** The origins calls are spread over now. */
  get origins(): string[] {
    return this.#replicas.map(({ origin }) => origin)
  }

  /**
   * Resolves the host name again and makes the replicas match its addresses; one resolution at a
   * time (a slow DNS must not pile lookups up on libuv's few threads).
   */
  refresh(): Promise<void> {
    if (!this.#resolvable) return Promise.resolve()
    this.#resolving ??= this.#resolve().finally(() => {
      this.#resolving = undefined
    })
    return this.#resolving
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const replica = this.#pick()
    // Connected to an address, the request still names the service as its Host (undici would say the address).
    if (this.#host) options = withHost(options, this.#host)
    // undici's request() (the peer client's, reply-from's) gives handlers of the onHeaders kind.
    const retryable = replayable(options.body) && !('onRequestStart' in handler && handler.onRequestStart)
    return replica.pool.dispatch(options, retryable ? this.#retryingOnce(options, handler, replica) : handler)
  }

  override async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#refreshTimer)
    // A draining pool may be closed already; closing it again has nothing to add.
    await Promise.all(this.#pools().map((pool) => pool.close().catch(() => {})))
  }

  override async destroy(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#refreshTimer)
    await Promise.all(this.#pools().map((pool) => pool.destroy().catch(() => {})))
  }

  #pools(): Pool[] {
    return [...this.#replicas.map(({ pool }) => pool), ...this.#draining]
  }

  #scheduleRefresh(): void {
    if (this.#closed) return
    this.#refreshTimer = setTimeout(
      () => void this.refresh().finally(() => this.#scheduleRefresh()),
      this.#options.refreshMs,
    ).unref()
  }

  async #resolve(): Promise<void> {
    let wanted: Set<string>
    try {
      const addresses = await (this.#options.resolve ?? resolveAll)(this.#url.hostname)
      if (addresses.length === 0) return
      wanted = new Set(addresses.map((address) => originOf(this.#url, address)))
    } catch (error) {
      // No such name while every known replica fails to connect: none runs (Compose and Kubernetes
      // drop the name with the last one), so calls go to the name itself and fail at once rather
      // than wait on vanished addresses, until the name is back. Otherwise (DNS restarting, a
      // spurious answer, replicas briefly unready) the known ones that work are kept.
      const now = Date.now()
      if (networkErrorCode(error) !== 'ENOTFOUND' || this.#replicas.some(({ avoidUntil }) => avoidUntil <= now)) return
      wanted = new Set([this.#url.origin])
    }
    if (this.#closed) return
    const kept = this.#replicas.filter(({ origin }) => wanted.has(origin))
    const known = new Set(kept.map(({ origin }) => origin))
    const added = [...wanted].filter((origin) => !known.has(origin)).map((origin) => this.#replica(origin))
    for (const { origin, pool } of this.#replicas) {
      if (wanted.has(origin)) continue
      // A replica that left finishes what it was sent, then its connections close.
      this.#draining.add(pool)
      pool
        .close()
        .catch(() => {})
        .finally(() => this.#draining.delete(pool))
    }
    this.#replicas = [...kept, ...added]
  }

  #replica(origin: string): Replica {
    const replica: Replica = { origin, pool: new Pool(origin, this.#options.pool), avoidUntil: 0 }
    replica.pool.on('connectionError', () => {
      replica.avoidUntil = Date.now() + this.#options.refreshMs
      // It may have left the name: look now rather than at the next refresh.
      void this.refresh()
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
    // Every other replica is being avoided: rather the one that failed once, if it is not.
    if (other && other.avoidUntil <= now && replicas.includes(other)) return other
    return fallback ?? (other && replicas.includes(other) ? other : (replicas[0] as Replica))
  }

  /**
   * `handler`, except that the call is sent once more when it could not reach a replica or was cut
   * off before any answer (idempotent calls only), or when the replica turned it away while closing.
   */
  #retryingOnce(options: Dispatcher.DispatchOptions, handler: LegacyHandler, first: Replica): LegacyHandler {
    const idempotent = IDEMPOTENT.has(options.method)
    const signal = (options as { signal?: AbortSignal }).signal
    let retried = false
    let answered = false
    let sent = false
    // A closing replica's 503 is read to its end and dropped, and the call is sent elsewhere.
    let turnedAway = false

    const sendAgain = (error: Error) => {
      retried = true
      sent = false
      turnedAway = false
      const send = () => {
        if (this.#closed || signal?.aborted) {
          handler.onError?.(signal?.aborted ? (signal.reason as Error) : error)
          return
        }
        // Chosen when sent (connectionError has marked the replica by then, and a refresh during the
        // pause may have closed a pool chosen earlier).
        this.#pick(first).pool.dispatch(options, wrapped)
      }
      // No other replica: the same one again after a short pause, in which the name is resolved
      // again (the failure above started it): it may have gone, or come back elsewhere.
      if (this.#replicas.length < 2) setTimeout(send, jitterMs())
      else setImmediate(send)
    }

    const wrapped: LegacyHandler = {
      // undici may pass a context too (the typings leave it out); it goes on as it came.
      onConnect: (...args: Parameters<NonNullable<Dispatcher.DispatchHandler['onConnect']>>) =>
        (handler.onConnect as ((...args: unknown[]) => void) | undefined)?.(...args),
      onUpgrade: (statusCode, headers, socket) => handler.onUpgrade?.(statusCode, headers, socket),
      onResponseStarted: () => handler.onResponseStarted?.(),
      onBodySent: (chunk, totalSent) => handler.onBodySent?.(chunk, totalSent),
      onRequestSent: () => {
        sent = true
        handler.onRequestSent?.()
      },
      onHeaders: (statusCode, headers, resume, statusText) => {
        if (!retried && isClosingAnswer(statusCode, headers as Buffer[] | null)) {
          turnedAway = true
          first.avoidUntil = Date.now() + this.#options.refreshMs
          return true
        }
        answered = true
        return handler.onHeaders?.(statusCode, headers, resume, statusText) ?? true
      },
      onData: (chunk) => turnedAway || (handler.onData?.(chunk) ?? true),
      onComplete: (trailers) => {
        if (turnedAway) sendAgain(new Error('the replica was closing'))
        else handler.onComplete?.(trailers)
      },
      onError: (error) => {
        const sendableAgain =
          turnedAway ||
          (idempotent &&
            classifyNetworkError(error) === 'connect' &&
            (options.method !== 'DELETE' || !sent || neverConnected(error)))
        if (!retried && !answered && !this.#closed && !signal?.aborted && sendableAgain) sendAgain(error)
        else handler.onError?.(error)
      },
    }
    return wrapped
  }
}
