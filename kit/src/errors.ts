import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance, FastifySchemaValidationError } from 'fastify'
import fp from 'fastify-plugin'
import { Type } from 'typebox'

/** The JSON body of every error answer: `{"statusCode", "error", "message"}`. */
export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer({ minimum: 400, maximum: 599 }),
    error: Type.String({ description: 'the HTTP reason phrase' }),
    message: Type.String({ description: 'what went wrong, in words a person understands' }),
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

  constructor(statusCode: number, message: string, options: { cause?: unknown; expose?: boolean } = {}) {
    super(message, { cause: options.cause })
    this.statusCode = statusCode
    this.expose = options.expose ?? statusCode < 500
  }
}

export function errorBody(statusCode: number, message: string) {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message }
}

/**
 * Turns schema validation errors into one sentence naming each bad field, e.g.
 * `params/date must match format "YYYYMMDD"; body has unknown property "x"`.
 */
export function describeValidationErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const sentences = new Set<string>()
  for (const error of errors) {
    const where = `${dataVar}${error.instancePath}`
    const params = error.params as { additionalProperties?: string[] }
    if (error.keyword === 'boolean') continue // restates an additionalProperties error
    if (error.keyword === 'additionalProperties' && params.additionalProperties) {
      const names = params.additionalProperties.map((name) => `"${name}"`).join(', ')
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

/** JSON errors for everything: thrown errors, validation failures, unknown routes. */
export const errorHandling = fp(
  async (fastify: FastifyInstance) => {
    fastify.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
      const candidate = error.statusCode ?? 500
      const statusCode = candidate >= 400 && candidate <= 599 ? candidate : 500
      if (statusCode < 500) request.log.debug({ err: error }, 'request rejected')
      // Outages of a peer or the database are expected events with a clear cause, not bugs.
      else if (error instanceof HttpError && error.expose)
        request.log.warn({ cause: String(error.cause ?? '') }, error.message)
      else request.log.error({ err: error }, 'request failed')
      return reply.code(statusCode).send(errorBody(statusCode, publicMessage(error, statusCode)))
    })

    fastify.setNotFoundHandler((request, reply) =>
      reply.code(404).send(errorBody(404, `no route for ${request.method} ${request.url.split('?')[0]}`)),
    )
  },
  { name: 'cinema-errors' },
)
