// One service as a process of its own, in a process group of its own that teardown kills whole
// (SIGKILL), as does this process's exit, so that a failing test leaves nothing running.
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { Test } from 'tap'
import { waitUntilReady } from '../../scripts/ready.mjs'
import { ROOT, type Service } from '../../scripts/services.mjs'
import { notCountedAgainstTimeout } from './file-timeout.js'
import { spawnGroup, stopGroup } from './processes.js'

export interface ServiceProcess {
  child: ChildProcess
  /** Everything it printed so far. */
  output(): string
  /** Its exit code, or the signal that ended it. */
  exited: Promise<number | string>
}

/** Starts `service` from its build with `env` added to its own, once it is ready. */
export async function startServiceProcess(
  t: Test,
  service: Service,
  env: Record<string, string>,
): Promise<ServiceProcess> {
  const child = spawnGroup(process.execPath, [...service.nodeOptions, join(ROOT, service.entry)], {
    cwd: ROOT,
    env: { ...process.env, ...service.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => stopGroup(child, 'SIGKILL'))
  let output = ''
  for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk) => (output += chunk))
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string)
  // No deadline of its own, as startSystem: a service that cannot start exits by itself, and a
  // busy machine stretches a start many times over; tap's timeout of the file bounds the rest.
  const stopped = new AbortController()
  await notCountedAgainstTimeout(
    Promise.race([
      waitUntilReady(service.readyUrl, { timeoutMs: Number.POSITIVE_INFINITY, signal: stopped.signal }),
      exited.then((code) => {
        stopped.abort()
        throw new Error(`${service.name} exited (${code}) while starting:\n${output}`)
      }),
    ]),
  )
  return { child, output: () => output, exited }
}

export interface ExitAfterSigterm {
  /** Milliseconds from SIGTERM to the exit, or undefined when still running long after the deadline. */
  took: number | undefined
  /** The deadline, plus how late this process's own timers ran meanwhile (a busy machine's lag). */
  allowedMs: number
  /** What `took` is held to, for the assertion's message. */
  describe(): string
}

/**
 * SIGTERM to `started`, and how long it takes to exit against `deadlineMs`. Where the machine is so
 * busy that this process's own timers run late, the child's do too: the lag measured meanwhile is
 * added to what it is allowed, and nothing else is.
 */
export async function exitAfterSigterm(started: ServiceProcess, deadlineMs: number): Promise<ExitAfterSigterm> {
  const lag = monitorEventLoopDelay({ resolution: 10 })
  lag.enable()
  const signalledAt = performance.now()
  started.child.kill('SIGTERM')
  const exited = await Promise.race([
    started.exited.then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), deadlineMs + 5_000).unref()),
  ])
  const took = exited ? Math.round(performance.now() - signalledAt) : undefined
  lag.disable()
  const lagMs = Math.round(lag.max / 1e6)
  return {
    took,
    allowedMs: deadlineMs + lagMs,
    describe: () =>
      `exited ${took ?? 'not'} ms after SIGTERM, within ${deadlineMs} ms (+ ${lagMs} ms this process's timers ran late)`,
  }
}
