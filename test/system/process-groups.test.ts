// What the tests start does not outlive them: a launcher killed with SIGKILL (as a failed test
// kills it) takes its services with it, and a test process that dies (an error, tap's timeout)
// takes every process it started, and theirs. Processes are found by a mark in their environment,
// which their own children inherit.
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { ROOT } from '../../scripts/services.mjs'
import { eventually } from '../helpers/eventually.js'
import { startLauncher } from '../helpers/system.js'

const MARK = 'CINEMA_TEST_MARK'

/** The pids of the processes whose environment carries `mark` (zombies have none left to read). */
function marked(mark: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`${MARK}=${mark}`)
      } catch {
        return false // gone meanwhile, or not ours to read
      }
    })
    .map(Number)
}

/** Whether anything answers at `url`. */
const answers = (url: string) =>
  fetch(url).then(
    async (response) => {
      await response.body?.cancel()
      return true
    },
    () => false,
  )

if (!existsSync('/proc/self/environ')) {
  t.plan(0, 'processes are found through /proc (Linux)')
} else {
  t.test('a launcher killed with SIGKILL: none of its services is left running or listening', async (t) => {
    const mark = randomUUID()
    const dataDir = mkdtempSync(join(tmpdir(), 'cinema-groups-'))
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
    // The two without a database: the quickest to start.
    const launcher = await startLauncher({ dataDir, only: ['gateway', 'ui'], env: { [MARK]: mark } })
    const services = launcher.services
    t.equal(marked(mark).length, 1 + services.length, 'the launcher and every service running')

    await launcher.stop('SIGKILL')
    t.same(
      await eventually(
        () => marked(mark),
        (pids) => pids.length === 0,
      ),
      [],
      'no process left',
    )
    for (const service of services) t.notOk(await answers(service.readyUrl), `${service.name}: nothing listening`)
  })

  for (const ending of ['an uncaught error', 'tap’s timeout (SIGALRM)'] as const) {
    t.test(`a test process ended by ${ending}: what it started, and their children, are killed`, async (t) => {
      const mark = randomUUID()
      const processes = pathToFileURL(join(ROOT, 'test/helpers/processes.ts')).href
      // A child that starts a grandchild of its own, both idling; then the test process ends.
      const idle = 'setInterval(() => {}, 1_000)'
      const parent = `spawn(process.execPath, ['-e', ${JSON.stringify(idle)}], { stdio: 'ignore' }); ${idle}`
      const end =
        ending === 'an uncaught error'
          ? "throw new Error('a test that failed')"
          : "process.kill(process.pid, 'SIGALRM')"
      // It ends once all three run: itself, the child and the grandchild.
      const script = `
        import { readdirSync, readFileSync } from 'node:fs'
        import { spawnGroup } from ${JSON.stringify(processes)}
        const countMarked = () => readdirSync('/proc').filter((pid) => {
          try { return readFileSync('/proc/' + pid + '/environ', 'utf8').includes('${MARK}=${mark}') } catch { return false }
        }).length
        spawnGroup(process.execPath, ['-e', ${JSON.stringify(`const { spawn } = require('node:child_process'); ${parent}`)}], { stdio: 'ignore' })
        const wait = setInterval(() => {
          if (countMarked() >= 3) { clearInterval(wait); ${end} }
        }, 50)
      `
      const test = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], {
        cwd: ROOT,
        env: { ...process.env, [MARK]: mark },
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      let stderr = ''
      test.stderr.on('data', (chunk) => {
        stderr += chunk
      })
      const [code, signal] = await once(test, 'exit')
      t.comment(`the test process ended with ${signal ?? `code ${code}`}`)
      t.match(stderr, ending === 'an uncaught error' ? /a test that failed/ : '', 'it ended as planned')
      t.same(
        await eventually(
          () => marked(mark),
          (pids) => pids.length === 0,
        ),
        [],
        'no process left',
      )
    })
  }
}
