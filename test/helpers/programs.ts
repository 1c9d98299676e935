// System programs a few tests need besides Node.js (nginx, Chromium), found on PATH as a shell
// would find them, so a machine without them (or a PATH that hides them) gets a clear answer.
import { accessSync, constants, statSync } from 'node:fs'
import { delimiter, join } from 'node:path'

/** The first executable file called `name` on PATH; undefined when there is none. */
export function findProgram(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      if (statSync(candidate).isFile()) return candidate
    } catch {
      // not in this directory
    }
  }
  return undefined
}
