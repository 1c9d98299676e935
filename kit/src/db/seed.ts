import type { Migration } from './migrations.js'

/**
 * The one-time seed of a fresh database: runs after every schema migration, is recorded like one
 * (so it never runs again, even once the table is emptied), and adds nothing to a table that
 * already has rows.
 */
export function seedMigration(name: string, table: string, columns: string[], rows: () => unknown[][]): Migration {
  return {
    version: 1_000_000,
    name,
    apply: async (tx) => {
      const [existing] = await tx.query(`SELECT 1 FROM ${table} LIMIT 1`)
      if (existing) return
      const placeholders = columns.map((_, index) => `$${index + 1}`).join(', ')
      for (const row of rows()) {
        await tx.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${placeholders})`, row)
      }
    },
  }
}
