// Processes that tests start, each the leader of a process group of its own (`detached`), so that
// what it starts in turn (a launcher's services, tsx watch's child) can be killed with it: a
// failed test leaves nothing running or listening. Whatever group is still alive when the test
// process ends (a test that threw, tap's timeout, Ctrl-C) is killed then.
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process'
import { once } from 'node:events'
import { onExit } from 'signal-exit'

/** The groups started and not yet known to be empty, by their leader's pid (the group's id). */
const groups = new Set<number>()

// signal-exit, as tap's own exit handling: 'exit' alone is not emitted when a signal ends the
// process (tap times a file out with SIGALRM), and a signal listener of our own would keep it alive.
onExit(() => {
  for (const group of groups) signalGroup(group, 'SIGKILL')
})

/** `signal` to every process of `group`; false when none is left. */
function signalGroup(group: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-group, signal)
    return true
  } catch {
    return false // ESRCH: the group is empty
  }
}

/** Whether any process of the group `child` leads is still there (a zombie counts until reaped). */
export function groupAlive(child: ChildProcess): boolean {
  return child.pid !== undefined && signalGroup(child.pid, 0)
}

/**
 * `command` with `args`, run without tap's instrumentation: tap's process-info hook wraps every
 * spawn of a test process and puts itself in the child's NODE_OPTIONS, to take V8 coverage there
 * and write it at exit. For a service or a load generator a test starts, that is CPU its users
 * would not spend (twice a service's start) and an exit 0.3 s later than theirs on a busy machine:
 * `env -u NODE_OPTIONS` takes it out after the hook has put it in.
 */
export function uninstrumented(command: string, args: readonly string[]): [string, string[]] {
  return ['env', ['-u', 'NODE_OPTIONS', command, ...args]]
}

/**
 * Like `spawn`, with the child leading a new process group, killed at the latest when this process
 * exits, and without tap's instrumentation (`uninstrumented`).
 */
export function spawnGroup(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(...uninstrumented(command, args), { ...options, detached: true })
  if (child.pid !== undefined) groups.add(child.pid)
  return child
}

/**
 * Stops `child` and everything of its group: `signal` to the child alone (its own way of stopping
 * what it started is what a test may be checking), then, once it has exited, SIGKILL to whatever
 * it left behind. With SIGKILL, the whole group at once. Resolves with the child's exit code.
 */
export async function stopGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  const group = child.pid
  if (group === undefined) return child.exitCode
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit')
    if (signal === 'SIGKILL') signalGroup(group, 'SIGKILL')
    else child.kill(signal)
    await exited
  }
  signalGroup(group, 'SIGKILL')
  groups.delete(group)
  return child.exitCode
}

/**
 * A process group that something else started (pg_ctl's postmaster, which leads its own), killed
 * when this process exits unless `release`d first; `release` kills it now if `kill` says so.
 */
export function adoptGroup(group: number): { release(kill?: boolean): void } {
  groups.add(group)
  return {
    release(kill = false) {
      if (kill) signalGroup(group, 'SIGKILL')
      groups.delete(group)
    },
  }
}
