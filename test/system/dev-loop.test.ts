// `npm run dev` (scripts/start.mjs --watch): a service runs from its TypeScript source and starts
// again by itself when its source or the kit's changes.
import { statSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { ROOT, systemServices } from '../../scripts/services.mjs'
import { spawnGroup, stopGroup } from '../helpers/processes.js'
import { freeOffset } from '../helpers/system.js'

const LISTENING = /movies +│ .*Server listening at/g

t.test('npm run dev: movies restarts when the kit or its own source changes', async (t) => {
  const portOffset = await freeOffset()
  const movies = systemServices({ portOffset }).find((service) => service.name === 'movies')
  // tsx watch and the service it runs are in the launcher's process group, killed with it.
  const launcher = spawnGroup(process.execPath, [join(ROOT, 'scripts/start.mjs'), '--watch', 'movies'], {
    cwd: ROOT,
    env: { ...process.env, CINEMA_PORT_OFFSET: String(portOffset), NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  for (const stream of [launcher.stdout, launcher.stderr]) stream?.on('data', (chunk) => (output += chunk))
  t.teardown(() => stopGroup(launcher, 'SIGKILL'))

  /**
   * Resolves once `pattern` occurs `times` times in the launcher's output; rejects if it exits
   * first. No deadline: a restart from source takes what the machine gives it, tap's timeout of
   * the file bounds it.
   */
  function waitFor(pattern: RegExp, times: number) {
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if ((output.match(pattern) ?? []).length < times) return
        settle()
        resolve()
      }
      const exited = () => {
        settle()
        reject(new Error(`the launcher exited before ${pattern} (${times}×):\n${output}`))
      }
      const settle = () => {
        for (const stream of [launcher.stdout, launcher.stderr]) stream?.off('data', check)
        launcher.off('exit', exited)
      }
      for (const stream of [launcher.stdout, launcher.stderr]) stream?.on('data', check)
      launcher.on('exit', exited)
      check()
      if (launcher.exitCode !== null || launcher.signalCode !== null) exited() // a no-op once resolved
    })
  }

  await waitFor(/Cinema is up in/g, 1)
  t.match(output, /movies +│ .*Server listening/, 'started from its source')
  t.equal((await fetch(`${movies?.url}/movies`)).status, 200)

  // A new modification time is all tsx watches for: the files stay as they are, and get their
  // times back afterwards (to `npm start`'s bundles, a newer time is a change to rebuild for).
  const now = new Date()
  for (const [file, times] of [
    ['kit/src/errors.ts', 2],
    ['movies/src/routes/movies.ts', 3],
  ] as const) {
    const { atime, mtime } = statSync(join(ROOT, file))
    t.teardown(() => utimesSync(join(ROOT, file), atime, mtime))
    utimesSync(join(ROOT, file), now, now)
    await waitFor(new RegExp(`\\[tsx\\] change in \\./${file.replaceAll('.', '\\.')}`, 'g'), 1)
    await waitFor(LISTENING, times)
    t.pass(`restarted after ${file} changed`)
    t.equal((await fetch(`${movies?.url}/movies`)).status, 200, 'and answers again')
  }

  t.equal(await stopGroup(launcher, 'SIGTERM'), 0, 'Ctrl-C stops it cleanly')
})
