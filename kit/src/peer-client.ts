import type { IncomingHttpHeaders } from 'node:http'
import { HttpError } from './errors.js'
import { REQUEST_ID_HEADER } from './logging.js'
import { CIRCUIT_STATE_VALUES, type Metrics, observer, type PeerOutcome } from './metrics.js'
import { classifyNetworkError } from './network-errors.js'
import { ReplicaPool } from './replica-pool.js'

export interface PeerOptions {
  /** The peer's name as users should read it: "movies", "bookings"… */
  name: string
  baseUrl: string
  connectTimeoutMs: number
  /** Longest wait for the peer's answer, headers and body each. */
  responseTimeoutMs: number
  /** Keep-alive connections kept open to each replica of the peer. */
  connections: number
  /** How often the peer's host name is resolved again to find its replicas. */
  replicaRefreshMs: number
  /**
   * Consecutive failures that open the circuit, and how long it stays open before one probe call;
   * `null` for no breaker: every call goes out (a health probe must see each real answer).
   */
  breaker: { failureThreshold: number; cooldownMs: number } | null
  metrics: Metrics
}

interface PeerRequest {
  method?: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE'
  path: string
  body?: unknown
  /** The client's address, sent as X-Forwarded-For (the users service keys its password budget by it). */
  forwardedFor?: string
}

interface PeerResponse {
  statusCode: number
  headers: IncomingHttpHeaders
  body: unknown
}

/** Calls to one peer: the client itself, or the client speaking for one request (`onBehalfOf`). */
export interface PeerCaller {
  readonly name: string
  request(request: PeerRequest): Promise<PeerResponse>
  getJson<T>(path: string): Promise<T | undefined>
}

type CircuitState = keyof typeof CIRCUIT_STATE_VALUES

/**
 * Fails fast while a peer keeps failing: after `failureThreshold` failures in a row the circuit
 * opens; after `cooldownMs` one call is let through as a probe, and its outcome closes or reopens it.
 * `onChange` hears every change of state (for the `peer_circuit_state` gauge).
 */
class CircuitBreaker {
  #failures = 0
  #openUntil = 0
  #probing = false
  #halfOpening: NodeJS.Timeout | undefined

  constructor(
    private readonly options: NonNullable<PeerOptions['breaker']>,
    private readonly onChange: (state: CircuitState) => void = () => {},
  ) {}

  get state(): CircuitState {
    if (this.#failures < this.options.failureThreshold) return 'closed'
    return Date.now() < this.#openUntil ? 'open' : 'half-open'
  }

  /** Whether a call may go out now; in half-open state only one probe at a time. */
  tryAcquire(): boolean {
    const state = this.state
    if (state === 'closed') return true
    if (state === 'open' || this.#probing) return false
    this.#probing = true
    return true
  }

  succeeded(): void {
    const wasClosed = this.state === 'closed'
    this.#failures = 0
    this.#probing = false
    clearTimeout(this.#halfOpening)
    if (!wasClosed) this.onChange('closed')
  }

  failed(): void {
    this.#failures += 1
    this.#probing = false
    if (this.#failures < this.options.failureThreshold) return
    this.#openUntil = Date.now() + this.options.cooldownMs
    this.onChange('open')
    // The circuit half-opens by time alone; the timer only announces it.
    clearTimeout(this.#halfOpening)
    this.#halfOpening = setTimeout(() => this.onChange('half-open'), this.options.cooldownMs).unref()
  }
}

/** What a call made on behalf of a request carries of it. */
interface CallerHeaders {
  requestId: string
  authorization: string | undefined
}

/**
 * HTTP client for one peer service: keep-alive pools to each of its replicas, calls spread over
 * them, bounded timeouts, one retry elsewhere (`ReplicaPool`), a circuit breaker.
 * Its own calls are no request's (a shared catalog fetch); `onBehalfOf(request)` gives calls that
 * carry the request's id, so that one request's log lines share it across services.
 */
export class PeerClient implements PeerCaller {
  readonly name: string
  readonly #pool: ReplicaPool
  readonly #breaker: CircuitBreaker | null
  readonly #observeCall: ReturnType<typeof observer>

  constructor(private readonly options: PeerOptions) {
    this.name = options.name
    this.#pool = new ReplicaPool(options.baseUrl, {
      pool: {
        connections: options.connections,
        connect: { timeout: options.connectTimeoutMs },
        headersTimeout: options.responseTimeoutMs,
        bodyTimeout: options.responseTimeoutMs,
      },
      refreshMs: options.replicaRefreshMs,
    })
    this.#breaker = options.breaker && this.#createBreaker(options.breaker)
    this.#observeCall = observer(options.metrics.peerRequestDuration)
  }

  get circuit(): CircuitBreaker['state'] {
    return this.#breaker?.state ?? 'closed'
  }

  /**
   * This client's calls on behalf of the request being served: they send its `x-request-id`, and
   * its bearer token when it has one (with private reads, the peer checks the same caller).
   * (Not an AsyncLocalStorage: on Node.js 20 one entered store makes every promise of the process
   * pay a hook, measured at a fifth of the users service's throughput.)
   */
  onBehalfOf(request: { id: string; headers: { authorization?: string } }): PeerCaller {
    const caller: CallerHeaders = { requestId: request.id, authorization: request.headers.authorization }
    return {
      name: this.name,
      request: (peerRequest) => this.#call(peerRequest, caller),
      getJson: (path) => this.#getJson(path, caller),
    }
  }

  request(request: PeerRequest): Promise<PeerResponse> {
    return this.#call(request, undefined)
  }

  /** GET a JSON document; `undefined` when the peer answers 404. */
  getJson<T>(path: string): Promise<T | undefined> {
    return this.#getJson(path, undefined)
  }

  /**
   * Sends one request. 2xx–4xx answers are returned for the caller to interpret; everything
   * else becomes an HttpError naming the peer: 503 unavailable (down, failing, circuit open)
   * or 504 (too slow).
   */
  async #call(request: PeerRequest, caller: CallerHeaders | undefined): Promise<PeerResponse> {
    const method = request.method ?? 'GET'
    if (this.#breaker?.tryAcquire() === false) {
      this.#observe(method, 'circuit_open', 0)
      throw new HttpError(503, `${this.name} service is unavailable (failing; calls paused briefly)`, {
        code: 'PEER_UNAVAILABLE',
        service: this.name,
        expose: true,
      })
    }
    const started = performance.now()
    try {
      const response = await this.#send(method, request, caller)
      const outcome: PeerOutcome =
        response.statusCode >= 500 ? 'server_error' : response.statusCode >= 400 ? 'client_error' : 'success'
      this.#observe(method, outcome, performance.now() - started)
      if (response.statusCode >= 500) {
        this.#breaker?.failed()
        // A peer shedding load says when to come back (the users service's bounded hashing): the
        // caller's client is told the same.
        const retryAfter = response.statusCode === 503 ? response.headers['retry-after'] : undefined
        throw new HttpError(503, `${this.name} service is unavailable (it answered ${response.statusCode})`, {
          code: 'PEER_UNAVAILABLE',
          service: this.name,
          expose: true,
          ...(typeof retryAfter === 'string' && { headers: { 'retry-after': retryAfter } }),
        })
      }
      this.#breaker?.succeeded()
      return response
    } catch (error) {
      if (error instanceof HttpError) throw error
      const timedOut = classifyNetworkError(error) === 'timeout'
      this.#observe(method, timedOut ? 'timeout' : 'unavailable', performance.now() - started)
      this.#breaker?.failed()
      if (timedOut) {
        throw new HttpError(504, `${this.name} service did not answer within ${this.options.responseTimeoutMs} ms`, {
          code: 'PEER_TIMEOUT',
          service: this.name,
          cause: error,
          expose: true,
        })
      }
      throw new HttpError(503, `${this.name} service is unavailable`, {
        code: 'PEER_UNAVAILABLE',
        service: this.name,
        cause: error,
        expose: true,
      })
    }
  }

  async #getJson<T>(path: string, caller: CallerHeaders | undefined): Promise<T | undefined> {
    const response = await this.#call({ path }, caller)
    if (response.statusCode === 404) return undefined
    if (response.statusCode >= 400) {
      throw new HttpError(502, `${this.name} service refused ${path} (${response.statusCode})`, {
        code: 'PEER_BAD_ANSWER',
        service: this.name,
        expose: true,
      })
    }
    return response.body as T
  }

  async close(): Promise<void> {
    await this.#pool.close()
  }

  async #send(method: string, request: PeerRequest, caller: CallerHeaders | undefined): Promise<PeerResponse> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (caller) {
      headers[REQUEST_ID_HEADER] = caller.requestId
      if (caller.authorization) headers.authorization = caller.authorization
    }
    if (request.forwardedFor) headers['x-forwarded-for'] = request.forwardedFor
    let body: string | undefined
    if (request.body !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(request.body)
    }
    const response = await this.#pool.request({ method: method as 'GET', path: request.path, headers, body })
    const text = await response.body.text()
    return { statusCode: response.statusCode, headers: response.headers, body: text ? parseJson(text) : undefined }
  }

  #createBreaker(options: NonNullable<PeerOptions['breaker']>): CircuitBreaker {
    const circuitState = this.options.metrics.peerCircuitState.labels(this.name)
    circuitState.set(CIRCUIT_STATE_VALUES.closed)
    return new CircuitBreaker(options, (state) => circuitState.set(CIRCUIT_STATE_VALUES[state]))
  }

  #observe(method: string, outcome: PeerOutcome, elapsedMs: number): void {
    this.#observeCall([this.name, method, outcome], elapsedMs / 1000)
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
