// `npm run dev` (scripts/start.mjs --watch): a service runs from its TypeScript source and starts
// again by itself when its source or the kit's changes.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { utimesSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { ROOT, systemServices } from '../../scripts/services.mjs'
import { freeOffset } from '../helpers/system.js'

const LISTENING = /movies +│ .*Server listening at/g

t.test('npm run dev: movies restarts when the kit or its own source changes', async (t) => {
  const portOffset = await freeOffset()
  const movies = systemServices({ portOffset }).find((service) => service.name === 'movies')
  const launcher: ChildProcess = spawn(process.execPath, [join(ROOT, 'scripts/start.mjs'), '--watch', 'movies'], {
    cwd: ROOT,
    env: { ...process.env, CINEMA_PORT_OFFSET: String(portOffset), NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  for (const stream of [launcher.stdout, launcher.stderr]) stream?.on('data', (chunk) => (output += chunk))
  t.teardown(async () => {
    if (launcher.exitCode === null) {
      launcher.kill('SIGTERM')
      await once(launcher, 'exit')
    }
  })

  /** Waits until `pattern` occurs `times` times in the launcher's output. */
  async function waitFor(pattern: RegExp, times: number) {
    const deadline = Date.now() + 60_000
    while ((output.match(pattern) ?? []).length < times) {
      if (launcher.exitCode !== null) throw new Error(`the launcher exited:\n${output}`)
      if (Date.now() > deadline) throw new Error(`no ${pattern} (${times}×) within 60 s:\n${output}`)
      await sleep(50)
    }
  }

  await waitFor(/Cinema is up in/g, 1)
  t.match(output, /movies +│ .*Server listening/, 'started from its source')
  t.equal((await fetch(`${movies?.url}/movies`)).status, 200)

  // A new modification time is all tsx watches for: the files stay as they are.
  const now = new Date()
  for (const [file, times] of [
    ['kit/src/errors.ts', 2],
    ['movies/src/routes/movies.ts', 3],
  ] as const) {
    utimesSync(join(ROOT, file), now, now)
    await waitFor(new RegExp(`\\[tsx\\] change in \\./${file.replaceAll('.', '\\.')}`, 'g'), 1)
    await waitFor(LISTENING, times)
    t.pass(`restarted after ${file} changed`)
    t.equal((await fetch(`${movies?.url}/movies`)).status, 200, 'and answers again')
  }

  launcher.kill('SIGTERM')
  const [code] = await once(launcher, 'exit')
  t.equal(code, 0, 'Ctrl-C stops it cleanly')
})
