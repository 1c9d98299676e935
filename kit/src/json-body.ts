import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { HttpError } from './errors.js'

/**
 * The shape of a JSON body any route here could want: this API's bodies are a few fields. A
 * deeper or larger one is refused before it is parsed, because parsing and validating it is what
 * costs: a 1 MB body of 80,000 unknown keys took ~180 ms of CPU (parse, then TypeBox listing every
 * unknown key), and 100,000 nested arrays parsed fine but broke the gateway's re-serialisation.
 */
export const JSON_BODY_LIMITS = { depth: 32, items: 1_000 }

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const OPEN_ARRAY = 0x5b
const OPEN_OBJECT = 0x7b
const CLOSE_ARRAY = 0x5d
const CLOSE_OBJECT = 0x7d

/**
 * Why `text` is beyond the limits, or null. One pass over the characters outside strings: brackets
 * give the nesting depth, commas the keys and array items (one comma per item after each first).
 * Malformed JSON is left to the parser, which says so.
 */
export function exceedsJsonLimits(text: string, limits = JSON_BODY_LIMITS): string | null {
  let depth = 0
  let commas = 0
  let inString = false
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index)
    if (inString) {
      if (code === BACKSLASH) index++
      else if (code === QUOTE) inString = false
    } else if (code === QUOTE) {
      inString = true
    } else if (code === OPEN_ARRAY || code === OPEN_OBJECT) {
      depth++
      if (depth > limits.depth) return `body is nested more than ${limits.depth} levels deep`
    } else if (code === CLOSE_ARRAY || code === CLOSE_OBJECT) {
      depth--
    } else if (code === COMMA) {
      commas++
      if (commas >= limits.items) return `body has more than ${limits.items} keys and array items`
    }
  }
  return null
}

/**
 * Fastify's own JSON parser (secure-json-parse: `__proto__` and `constructor.prototype` keys
 * refused) behind the limits above, for every service and the gateway.
 */
export const jsonBody = fp(
  async (fastify: FastifyInstance) => {
    const { onProtoPoisoning, onConstructorPoisoning } = fastify.initialConfig
    const parse = fastify.getDefaultJsonParser(onProtoPoisoning ?? 'error', onConstructorPoisoning ?? 'error')
    fastify.removeContentTypeParser('application/json')
    fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, raw, done) => {
      const body = raw as string // parseAs: 'string'
      const tooLarge = exceedsJsonLimits(body)
      if (tooLarge) done(new HttpError(400, tooLarge, { code: 'BODY_TOO_LARGE' }), undefined)
      else parse(request, body, done)
    })
  },
  { name: 'cinema-json-body' },
)
