import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify'
import { type TSchema, Type } from 'typebox'
import { Compile } from 'typebox/compile'
import { Value } from 'typebox/value'
import { ownValue } from './records.js'

/**
 * Strings in params, querystring and headers that TypeBox converted to numbers or booleans, but
 * not exactly (`"1.5"` truncated to integer 1, `"1"` read as `true`): rejected instead of guessed.
 */
function inexactConversions(schema: TSchema, raw: unknown, converted: unknown): FastifySchemaValidationError[] {
  if (typeof raw !== 'object' || raw === null || typeof converted !== 'object' || converted === null) return []
  const properties = (schema as { properties?: Record<string, { type?: string }> }).properties ?? {}
  return Object.entries(raw as Record<string, unknown>).flatMap(([name, value]) => {
    // Not in the converted copy: nothing converted it (Value.Clone leaves out keys named
    // `__proto__` or `constructor`, which no schema here declares).
    if (!Object.hasOwn(converted, name)) return []
    const result = (converted as Record<string, unknown>)[name]
    if (typeof value !== 'string' || typeof result === 'string' || String(result) === value) return []
    const type = ownValue(properties, name)?.type ?? typeof result
    return [
      {
        keyword: 'type',
        instancePath: `/${name}`,
        schemaPath: `#/properties/${name}`,
        params: { type },
        message: `must be ${type}`,
      },
    ]
  })
}

// Control characters (C0 with NUL, DEL, C1) and lone surrogates are never part of a name, an id
// or a date here. PostgreSQL refuses NUL (SQLSTATE 22021, a 500), and a lone surrogate cannot be
// encoded as UTF-8 (the driver would store U+FFFD instead): both are refused before any handler.
// The first test is a plain character class (a Unicode-aware one cost 3–4 times more per string):
// it finds any surrogate, so a string that has one is looked at again for a lone one.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_OR_SURROGATE = /[\u0000-\u001f\u007f-\u009f\ud800-\udfff]/
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const LONE_SURROGATE = /\p{Surrogate}/u

/** What is wrong with `text`, or undefined when nothing is. */
function unsafeTextIn(text: string): string | undefined {
  if (!CONTROL_OR_SURROGATE.test(text)) return undefined
  if (CONTROL.test(text)) return 'control characters'
  return LONE_SURROGATE.test(text) ? 'lone surrogates (malformed UTF-16)' : undefined
}

const unsafeTextError = (instancePath: string, message: string): FastifySchemaValidationError => ({
  keyword: 'unsafeText',
  instancePath,
  schemaPath: '#',
  params: {},
  message,
})

/**
 * The first string in a validated value with unsafe text: strings, arrays, objects and, when
 * `keys` (the caller named them), property names.
 */
function unsafeText(value: unknown, path: string, keys: boolean): FastifySchemaValidationError | undefined {
  if (typeof value === 'string') {
    const problem = unsafeTextIn(value)
    return problem === undefined ? undefined : unsafeTextError(path, `must not contain ${problem}`)
  }
  if (typeof value !== 'object' || value === null) return undefined
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = unsafeText(value[index], `${path}/${index}`, keys)
      if (found) return found
    }
    return undefined
  }
  for (const key of Object.keys(value)) {
    const keyProblem = keys ? unsafeTextIn(key) : undefined
    if (keyProblem !== undefined) return unsafeTextError(path, `must not have property names with ${keyProblem}`)
    const property = (value as Record<string, unknown>)[key]
    // Strings, the common case, are tested here: no path is built unless something is wrong.
    if (typeof property === 'string') {
      const problem = unsafeTextIn(property)
      if (problem !== undefined) return unsafeTextError(`${path}/${key}`, `must not contain ${problem}`)
    } else {
      const found = unsafeText(property, `${path}/${key}`, keys)
      if (found) return found
    }
  }
  return undefined
}

/**
 * TypeBox's compiled checks for every request part. Bodies are checked as sent (JSON already has
 * types); params, querystring and headers arrive as strings and are converted first, exactly.
 * Params, querystring and body must then be free of unsafe text (headers may hold a tab, and Node
 * refuses the other control characters in them already).
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema)
  // Params are named by the route (`:username`), querystring and body keys by the caller.
  const callerNamesKeys = httpPart !== 'params'
  const valid =
    httpPart === 'headers'
      ? (value: unknown) => ({ value })
      : (value: unknown) => {
          const unsafe = unsafeText(value, '', callerNamesKeys)
          return unsafe ? { error: [unsafe] } : { value }
        }
  // A body declared Type.Optional may be left out (DELETE /users/{u}: only one's own needs one);
  // Fastify gives a request without one a null body.
  const bodyMayBeAbsent = httpPart === 'body' && Type.IsOptional(schema)
  return (value: unknown) => {
    if (bodyMayBeAbsent && (value === undefined || value === null)) return { value: undefined }
    if (httpPart === 'body') return check.Check(value) ? valid(value) : { error: check.Errors(value) }
    // Most params are strings already (ids, names): nothing to convert, the hot path stays cheap.
    if (check.Check(value)) return valid(value)
    // Convert may change the object it is given; keep the strings as sent for the exactness check.
    const converted = Value.Convert(schema, Value.Clone(value))
    if (!check.Check(converted)) return { error: check.Errors(converted) }
    const inexact = inexactConversions(schema, value, converted)
    return inexact.length > 0 ? { error: inexact } : valid(converted)
  }
}
