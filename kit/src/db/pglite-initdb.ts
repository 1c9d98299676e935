import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Creates a new PGlite data directory in a short-lived child process. initdb inside the service
 * process would leave it holding ~700 MB it never gives back; the open that follows needs ~150 MB.
 */
export function initialiseDataDir(dataDir: string): void {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return
  const script =
    'const { PGlite } = await import(process.argv[1]); await (await PGlite.create(process.argv[2])).close()'
  const result = spawnSync(
    process.execPath,
    ['--input-type=module', '--eval', script, import.meta.resolve('@electric-sql/pglite'), dataDir],
    { encoding: 'utf8' },
  )
  if (result.status !== 0) throw new Error(`could not create the database in ${dataDir}: ${result.stderr}`)
}
