import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { isAlive } from './process-alive.js'

/**
 * One process per data directory: PGlite has no lock of its own, and two processes writing the
 * same files would corrupt them. A lock left by a killed process is taken over. Returns the unlock.
 */
export function lockDataDir(dir: string): () => void {
  const lockFile = join(dir, 'cinema.lock')
  for (;;) {
    try {
      const fd = openSync(lockFile, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return () => rmSync(lockFile, { force: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = Number(readFileSync(lockFile, 'utf8'))
      if (holder && isAlive(holder)) {
        throw new Error(`database directory ${dir} is in use by process ${holder}`)
      }
      rmSync(lockFile, { force: true })
    }
  }
}
