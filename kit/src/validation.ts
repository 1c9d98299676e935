import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify'
import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { Value } from 'typebox/value'

/**
 * Strings in params, querystring and headers that TypeBox converted to numbers or booleans, but
 * not exactly (`"1.5"` truncated to integer 1, `"1"` read as `true`): rejected instead of guessed.
 */
function inexactConversions(schema: TSchema, raw: unknown, converted: unknown): FastifySchemaValidationError[] {
  if (typeof raw !== 'object' || raw === null || typeof converted !== 'object' || converted === null) return []
  const properties = (schema as { properties?: Record<string, { type?: string }> }).properties ?? {}
  return Object.entries(raw as Record<string, unknown>).flatMap(([name, value]) => {
    const result = (converted as Record<string, unknown>)[name]
    if (typeof value !== 'string' || typeof result === 'string' || String(result) === value) return []
    const type = properties[name]?.type ?? typeof result
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

/**
 * TypeBox's compiled checks for every request part. Bodies are checked as sent (JSON already has
 * types); params, querystring and headers arrive as strings and are converted first, exactly.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema)
  return (value: unknown) => {
    if (httpPart === 'body') return check.Check(value) ? { value } : { error: check.Errors(value) }
    // Most params are strings already (ids, names): nothing to convert, the hot path stays cheap.
    if (check.Check(value)) return { value }
    // Convert may change the object it is given; keep the strings as sent for the exactness check.
    const converted = Value.Convert(schema, Value.Clone(value))
    if (!check.Check(converted)) return { error: check.Errors(converted) }
    const inexact = inexactConversions(schema, value, converted)
    return inexact.length > 0 ? { error: inexact } : { value: converted }
  }
}
