/**
 * Results of the reads that ask for it (`{ cache: true }`), kept until the next write. Only for PGlite: its data directory belongs to this
 * process alone (see lockDataDir), so every write passes through here and nothing can go stale.
 * A PGlite call costs 100–200 µs of CPU whatever the query (90 µs for SELECT 1), which made the
 * hot reads (a user, a user's bookings) the bulk of a request. A read that overlaps a write is
 * returned but not kept.
 */
export class ReadCache {
  #entries = new Map<string, unknown[]>()
  #generation = 0

  constructor(private readonly capacity = 10_000) {}

  async read<Row>(sql: string, params: unknown[] | undefined, load: () => Promise<Row[]>): Promise<Row[]> {
    const key = params ? `${sql}\u0000${JSON.stringify(params)}` : sql
    const cached = this.#entries.get(key)
    if (cached) return cached as Row[]
    const generation = this.#generation
    const rows = await load()
    if (generation === this.#generation) {
      if (this.#entries.size >= this.capacity) this.#entries.delete(this.#entries.keys().next().value as string)
      this.#entries.set(key, Object.freeze(rows.map((row) => Object.freeze(row))) as unknown[])
    }
    return rows
  }

  /** Runs a write; whatever it changed, no read from before it is served again. */
  async write<T>(work: () => Promise<T>): Promise<T> {
    this.#invalidate()
    try {
      return await work()
    } finally {
      this.#invalidate()
    }
  }

  #invalidate(): void {
    this.#generation += 1
    this.#entries.clear()
  }
}
