import { type Server, STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type {
  FastifyError,
  FastifyHttpOptions,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifySchemaValidationError,
} from 'fastify'
import fp from 'fastify-plugin'
import { Type } from 'typebox'

/**
 * What went wrong, for programs (the UI picks its words by it): the same code for the same cause on
 * every service. Declared once, here; the OpenAPI documents list them.
 */
export const ERROR_CODES = [
  // the request itself
  'BAD_REQUEST',
  'VALIDATION_FAILED',
  'NOT_FOUND',
  'REQUEST_TIMEOUT',
  'BODY_TOO_LARGE',
  'URL_TOO_LONG',
  'UNSUPPORTED_MEDIA_TYPE',
  'EXPECTATION_FAILED',
  'HEADERS_TOO_LARGE',
  'RATE_LIMITED',
  // who is asking
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'CSRF_REJECTED',
  'SESSION_CONFLICT',
  'BAD_CREDENTIALS',
  'TOO_MANY_SIGN_INS',
  'WRONG_PASSWORD',
  // the domain
  'MOVIE_NOT_FOUND',
  'SHOWTIMES_NOT_FOUND',
  'MOVIE_NOT_PLAYING',
  'USER_NOT_FOUND',
  'USER_EXISTS',
  'USER_ID_RESERVED',
  'USER_HAS_BOOKINGS',
  'LAST_ADMIN',
  'ADMIN_LISTED',
  'BOOKING_NOT_FOUND',
  // a booking and a deletion of its user raced (docs/architecture.md): try again
  'BOOKING_WITHDRAWN',
  'DELETION_EXPIRED',
  // the system: `service` names which service (or whose database)
  'PEER_UNAVAILABLE',
  'PEER_TIMEOUT',
  'PEER_BAD_ANSWER',
  'DATABASE_UNAVAILABLE',
  'OVERLOADED',
  'INTERNAL',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

/** The JSON body of every error answer: `{"statusCode", "error", "message", "code"}`, and `service` if one is to blame. */
export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer({ minimum: 400, maximum: 599 }),
    error: Type.String({ description: 'the HTTP reason phrase' }),
    message: Type.String({ description: 'what went wrong, in words a person understands' }),
    code: Type.Enum(ERROR_CODES, { description: 'what went wrong, for programs' }),
    service: Type.Optional(
      Type.String({ description: 'the service that failed or whose database did (PEER_…, DATABASE_…, OVERLOADED)' }),
    ),
  },
  { description: 'an error' },
)

/**
 * An error whose status and message are meant for the client. 4xx messages are always shown;
 * a 5xx message is shown only when `expose` is set (peer and database outages), so nothing
 * internal leaks by accident.
 */
export class HttpError extends Error {
  override name = 'HttpError'
  readonly statusCode: number
  readonly expose: boolean
  readonly code: ErrorCode
  /** The peer service (or whose database) the error is about. */
  readonly service: string | undefined
  /** Headers the answer carries (`WWW-Authenticate` on a 401, `Retry-After` on a 429). */
  readonly headers: Readonly<Record<string, string>> | undefined

  constructor(
    statusCode: number,
    message: string,
    options: {
      code: ErrorCode
      service?: string
      cause?: unknown
      expose?: boolean
      headers?: Record<string, string>
    },
  ) {
    super(message, { cause: options.cause })
    this.statusCode = statusCode
    this.code = options.code
    this.service = options.service
    this.expose = options.expose ?? statusCode < 500
    this.headers = options.headers
  }
}

export interface ErrorBody {
  statusCode: number
  error: string
  message: string
  code: ErrorCode
  service?: string
}

export function errorBody(statusCode: number, message: string, code: ErrorCode, service?: string): ErrorBody {
  const body: ErrorBody = { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, code }
  if (service !== undefined) body.service = service
  return body
}

// The code of an error the framework, Node or a plugin raised, by its status.
const CODES_BY_STATUS = new Map<number, ErrorCode>([
  [404, 'NOT_FOUND'],
  [408, 'REQUEST_TIMEOUT'],
  [413, 'BODY_TOO_LARGE'],
  [414, 'URL_TOO_LONG'],
  [415, 'UNSUPPORTED_MEDIA_TYPE'],
  [417, 'EXPECTATION_FAILED'],
  [429, 'RATE_LIMITED'],
  [431, 'HEADERS_TOO_LARGE'],
])

function codeOf(error: FastifyError | HttpError, statusCode: number): ErrorCode {
  if (error instanceof HttpError) return error.code
  if (statusCode >= 500) return 'INTERNAL'
  if (error.validation) return 'VALIDATION_FAILED'
  return CODES_BY_STATUS.get(statusCode) ?? 'BAD_REQUEST'
}

// Names the caller chose (property names, paths made of them) are quoted back at most this long,
// and at most this many: a 1 MB key name, or a thousand, came back whole in the 400.
const ECHOED_NAME_LENGTH = 64
const ECHOED_NAMES = 5

const shortened = (text: string) =>
  text.length > ECHOED_NAME_LENGTH ? `${text.slice(0, ECHOED_NAME_LENGTH)}… (${text.length} characters)` : text

function listNames(names: string[]): string {
  const listed = names.slice(0, ECHOED_NAMES).map((name) => `"${shortened(name)}"`)
  const more = names.length - listed.length
  return more > 0 ? `${listed.join(', ')} and ${more} more` : listed.join(', ')
}

/**
 * Turns schema validation errors into one sentence naming each bad field, e.g.
 * `params/date must match format "YYYYMMDD"; body has unknown property "x"`.
 */
export function describeValidationErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const sentences = new Set<string>()
  for (const error of errors) {
    const where = `${dataVar}${shortened(error.instancePath)}`
    const params = error.params as { additionalProperties?: string[] }
    if (error.keyword === 'boolean') continue // restates an additionalProperties error
    if (error.keyword === 'additionalProperties' && params.additionalProperties) {
      const names = listNames(params.additionalProperties)
      sentences.add(
        `${where} has unknown ${params.additionalProperties.length > 1 ? 'properties' : 'property'} ${names}`,
      )
    } else {
      sentences.add(`${where} ${error.message}`)
    }
  }
  return new Error([...sentences].join('; ') || `${dataVar} is invalid`)
}

function publicMessage(error: FastifyError | HttpError, statusCode: number): string {
  if (error instanceof HttpError) return error.expose ? error.message : (STATUS_CODES[statusCode] ?? 'Error')
  return statusCode < 500 ? error.message : 'Something went wrong on our side; it has been logged.'
}

/** Answers any error as `{statusCode, error, message, code}`: never Fastify's own code, never a 5xx's internals. */
function sendError(error: FastifyError | HttpError, request: FastifyRequest, reply: FastifyReply) {
  const candidate = error.statusCode ?? 500
  const statusCode = candidate >= 400 && candidate <= 599 ? candidate : 500
  if (statusCode < 500) request.log.debug({ err: error }, 'request rejected')
  // Outages of a peer or the database are expected events with a clear cause, not bugs.
  else if (error instanceof HttpError && error.expose)
    request.log.warn({ cause: String(error.cause ?? '') }, error.message)
  else request.log.error({ err: error }, 'request failed')
  const service = error instanceof HttpError ? error.service : undefined
  if (error instanceof HttpError && error.headers) reply.headers(error.headers)
  return reply
    .code(statusCode)
    .send(errorBody(statusCode, publicMessage(error, statusCode), codeOf(error, statusCode), service))
}

/** RFC 9112 §3.2: a request without Host (HTTP/1.1), with more than one or a malformed one is a 400, whatever else is wrong with it. */
function hostHeaderProblem(request: FastifyRequest): HttpError | undefined {
  const problem = hostProblem(request)
  return problem === undefined ? undefined : new HttpError(400, problem, { code: 'BAD_REQUEST' })
}

/**
 * Errors Fastify meets before routing (so before the Host check's hook): a URL it cannot decode
 * (400), a path part over maxParamLength (414); a bad Host header is still the answer first.
 */
function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const hostProblem = hostHeaderProblem(request)
  if (hostProblem) return sendError(hostProblem, request, reply)
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    const limit = request.server.initialConfig.maxParamLength
    return sendError(
      new HttpError(414, `the URL is too long: a part of its path has over ${limit} characters`, {
        code: 'URL_TOO_LONG',
      }),
      request,
      reply,
    )
  }
  return sendError(error, request, reply)
}

// What Node's HTTP parser refuses, by its error code, as Node itself would answer (status) but in
// words and in JSON. Anything else it refuses is a 400.
const CLIENT_ERRORS = new Map<string, { statusCode: number; message: string; code: ErrorCode }>([
  [
    'HPE_HEADER_OVERFLOW',
    { statusCode: 431, message: 'the request line and headers are too large', code: 'HEADERS_TOO_LARGE' },
  ],
  [
    'HPE_CHUNK_EXTENSIONS_OVERFLOW',
    { statusCode: 413, message: 'the chunk extensions of the body are too large', code: 'BODY_TOO_LARGE' },
  ],
  [
    'ERR_HTTP_REQUEST_TIMEOUT',
    { statusCode: 408, message: 'the request did not arrive in time', code: 'REQUEST_TIMEOUT' },
  ],
])

/**
 * A request Node's HTTP parser refused never reaches Fastify: the answer is written on the socket,
 * which is then closed (the rest of what arrives cannot be trusted to be a request).
 */
function clientErrorHandler(this: FastifyInstance, error: Error & { code?: string; reason?: string }, socket: Socket) {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  this.log.debug({ err: error }, 'malformed request refused')
  const known = CLIENT_ERRORS.get(error.code ?? '')
  const { statusCode, message, code } = known ?? {
    statusCode: 400,
    message: `the request is not valid HTTP${error.reason ? ` (${error.reason})` : ''}`,
    code: 'BAD_REQUEST',
  }
  // As Node does: no answer in the middle of one already being written on this connection.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent: boolean } })._httpMessage
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify(errorBody(statusCode, message, code))
    socket.write(
      `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode]}\r\nConnection: close\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    )
  }
  socket.destroy(error)
}

/**
 * Server options that put the errors Fastify and Node answer themselves (before any route or
 * hook) into the same JSON shape. Node's own check of the Host header answers an empty 400, so
 * it is off: `errorHandling` checks Host instead.
 */
export const errorServerOptions = {
  frameworkErrors,
  clientErrorHandler,
  http: { requireHostHeader: false },
} satisfies Partial<FastifyHttpOptions<Server>>

/** How many Host headers the request came with; Node keeps only the first in `headers`. */
function hostHeaderCount(rawHeaders: string[]): number {
  let count = 0
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index] as string
    if (name.length === 4 && name.toLowerCase() === 'host') count++
  }
  return count
}

// RFC 9110 §7.2 / RFC 3986: uri-host [":" port], an IP literal in brackets or a reg-name (which
// covers IPv4 and is empty for a target without authority). "a, b" (two hosts joined by a proxy)
// and "user@host" are not hosts.
const HOST_VALUE = /^(?:\[[\dA-Fa-f:.]+\]|[\w.~!$&'()*+,;=%-]*)(?::\d*)?$/

/** Why the request's Host header is not acceptable, or undefined when it is. */
function hostProblem(request: FastifyRequest): string | undefined {
  const hosts = hostHeaderCount(request.raw.rawHeaders)
  if (hosts === 0) return request.raw.httpVersion === '1.0' ? undefined : 'the Host header is missing'
  if (hosts > 1) return 'the request has more than one Host header'
  return HOST_VALUE.test(request.headers.host ?? '') ? undefined : 'the Host header is not a host and port'
}

/**
 * JSON errors for everything: thrown errors, validation failures, unknown routes, a Host header
 * missing, sent twice or malformed (RFC 9112 §3.2: 400), an expectation other than `100-continue` (417).
 */
export const errorHandling = fp(
  async (fastify: FastifyInstance) => {
    fastify.setErrorHandler(sendError)

    fastify.setNotFoundHandler((request, reply) =>
      reply.code(404).send(errorBody(404, `no route for ${request.method} ${request.url.split('?')[0]}`, 'NOT_FOUND')),
    )

    fastify.addHook('onRequest', (request, _reply, done) => done(hostHeaderProblem(request)))

    // Node answers `Expect: 100-continue` itself and, without this listener, any other
    // expectation with an empty 417.
    fastify.server.on('checkExpectation', (request, response) => {
      const body = JSON.stringify(
        errorBody(
          417,
          `the expectation "${request.headers.expect}" cannot be met; only 100-continue is supported`,
          'EXPECTATION_FAILED',
        ),
      )
      response.writeHead(417, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      })
      response.end(body)
    })
  },
  { name: 'cinema-errors' },
)
