/**
 * Objects keyed by outside input: usernames, dates, movie ids. A plain `{}` inherits
 * Object.prototype, so a username such as `__proto__` or `constructor` would read or, worse,
 * write Object.prototype's members instead of its own entry. These objects have no prototype:
 * every key is an ordinary key, and Fastify's serializer (Object.keys) sends them as JSON as usual.
 */

/** An empty object without a prototype. */
export function emptyRecord<Value>(): Record<string, Value> {
  return Object.create(null) as Record<string, Value>
}

/** An object without a prototype holding `entries`, in their order. */
export function recordFromEntries<Value>(entries: Iterable<readonly [string, Value]>): Record<string, Value> {
  const record = emptyRecord<Value>()
  for (const [key, value] of entries) record[key] = value
  return record
}

/**
 * The value stored under `key` in an object of any origin (JSON from a peer, a data file), never a
 * member inherited from Object.prototype (`constructor`, `toString`…).
 */
export function ownValue<Value>(record: Readonly<Record<string, Value>>, key: string): Value | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined
}
