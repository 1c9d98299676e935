// `npm run stop` signals Cinema's launchers only: a pid file left by a launcher killed with
// SIGKILL may name a process that has nothing to do with Cinema by now.
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { ROOT } from '../../scripts/services.mjs'
import { stopLaunchers } from '../../scripts/stop.mjs'
import { spawnGroup, stopGroup } from '../helpers/processes.js'

/** A Node.js process running `args`, killed when the test ends; resolves once it runs. */
async function processRunning(t: Test, args: string[]): Promise<ChildProcess> {
  const child = spawnGroup(process.execPath, ['--eval', 'setInterval(() => {}, 1000); console.log("up")', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  t.teardown(() => stopGroup(child, 'SIGKILL'))
  await once(child.stdout as NodeJS.ReadableStream, 'data')
  return child
}

function pidDirNaming(t: Test, pid: number | undefined): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cinema-run-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, `${pid}.pid`)
  writeFileSync(file, String(pid))
  return { dir, file }
}

t.test('a stale pid file naming another process: that process is left alone, the file removed', async (t) => {
  const unrelated = await processRunning(t, [])
  const { dir, file } = pidDirNaming(t, unrelated.pid)
  t.same(stopLaunchers(dir), { stopped: 0, stale: 1 })
  t.notOk(existsSync(file), 'stale pid file removed')
  await sleep(300) // time for a signal, had one been sent, to end it
  t.equal(unrelated.exitCode, null, 'still running')
  t.equal(unrelated.signalCode, null, 'never signalled')
})

t.test('a pid file naming a process that is gone is removed', async (t) => {
  const gone = await processRunning(t, [])
  gone.kill('SIGKILL')
  await once(gone, 'exit')
  const { dir, file } = pidDirNaming(t, gone.pid)
  t.same(stopLaunchers(dir), { stopped: 0, stale: 1 })
  t.notOk(existsSync(file))
})

t.test('the launcher, started as npm starts it (node scripts/start.mjs in the root), gets SIGTERM', async (t) => {
  const launcher = await processRunning(t, ['scripts/start.mjs'])
  const { dir } = pidDirNaming(t, launcher.pid)
  const exited = once(launcher, 'exit')
  t.same(stopLaunchers(dir), { stopped: 1, stale: 0 })
  const [, signal] = await exited
  t.equal(signal, 'SIGTERM')
})

t.test('a launcher of another clone (scripts/start.mjs elsewhere) is not ours', async (t) => {
  const elsewhere = mkdtempSync(join(tmpdir(), 'cinema-clone-'))
  t.teardown(() => rmSync(elsewhere, { recursive: true, force: true }))
  const other = await processRunning(t, [join(elsewhere, 'scripts', 'start.mjs')])
  const { dir } = pidDirNaming(t, other.pid)
  t.same(stopLaunchers(dir), { stopped: 0, stale: 1 })
  await sleep(300)
  t.equal(other.signalCode, null, 'never signalled')
})
