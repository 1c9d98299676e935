import { isUtf8 } from 'node:buffer'
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

/** Whether plain JSON.parse accepts `text` (asked only of a body the secure parser refused). */
function isPlainJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
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
    fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, raw, done) => {
      const bytes = raw as Buffer // parseAs: 'buffer'
      // Decoding would put U+FFFD in place of each malformed sequence (overlong forms, lone
      // surrogates, stray bytes), and that would be stored as if it had been sent.
      if (!isUtf8(bytes)) return done(new HttpError(400, 'body is not valid UTF-8', { code: 'BAD_REQUEST' }), undefined)
      const body = bytes.toString('utf8')
      const tooLarge = exceedsJsonLimits(body)
      if (tooLarge) return done(new HttpError(400, tooLarge, { code: 'BODY_TOO_LARGE' }), undefined)
      parse(request, body, (error, value) => {
        // Fastify says "not valid JSON" of a prototype-poisoning key too: say what it is instead.
        if (error && isPlainJson(body)) {
          done(
            new HttpError(400, 'body must not have a "__proto__" key nor "constructor" with "prototype"', {
              code: 'BAD_REQUEST',
            }),
            undefined,
          )
        } else done(error, value)
      })
    })
  },
  { name: 'cinema-json-body' },
)
