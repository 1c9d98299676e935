import { readFileSync } from 'node:fs'
import type { Static, TSchema } from 'typebox'
import { Value } from 'typebox/value'

/** Reads a JSON data file and checks it against its schema, failing start-up with a clear message. */
export function readDataFile<Schema extends TSchema>(path: string, schema: Schema): Static<Schema> {
  let data: unknown
  try {
    data = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new Error(`cannot read data file ${path}: ${error instanceof Error ? error.message : String(error)}`)
  }
  const firstError = Value.Errors(schema, data)[0]
  if (firstError) throw new Error(`data file ${path} is invalid at "${firstError.instancePath}": ${firstError.message}`)
  return data as Static<Schema>
}
