// Starts the whole system (or part of it) as `npm start` does, on shifted ports, for end-to-end
// tests and the bench: each service as its own process, or everything through the launcher.
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { IN_MEMORY } from '@cinema/kit'
import { waitUntilReady } from '../../scripts/ready.mjs'
import { ROOT, type Service, systemServices } from '../../scripts/services.mjs'
import { notCountedAgainstTimeout } from './file-timeout.js'
import { portIsFree } from './ports.js'
import { spawnGroup, stopGroup } from './processes.js'

export interface SystemOptions {
  /** Databases in memory (default) or under this directory, which then survives restarts. */
  dataDir?: string
  /** Start only these services (default: all). */
  only?: string[]
  /** Extra environment for every service. */
  env?: Record<string, string>
  /** Extra environment per service, e.g. its DATABASE_URL. */
  serviceEnv?: Record<string, Record<string, string>>
}

export interface RunningSystem {
  services: Service[]
  url(name: string): string
  /** Everything each service printed, for assertions on logs. */
  output(name: string): string
  start(name: string): Promise<void>
  stop(name: string, signal?: NodeJS.Signals): Promise<number | null>
  close(): Promise<void>
}

/**
 * A port offset at which every port of the system is free. The shifted ports (5000–9464 before
 * the shift) stay between 10000 and 32767, below Linux's ephemeral range, so outgoing connections
 * of parallel tests cannot take one between this check and the services' start.
 */
export async function freeOffset(): Promise<number> {
  for (;;) {
    const offset = 5_000 + Math.floor(Math.random() * 1_830) * 10
    const ports = systemServices({ portOffset: offset }).flatMap((service) =>
      service.metricsPort === undefined ? [service.port] : [service.port, service.metricsPort],
    )
    if ((await Promise.all(ports.map(portIsFree))).every(Boolean)) return offset
  }
}

export async function startSystem(options: SystemOptions = {}): Promise<RunningSystem> {
  const services = systemServices({ portOffset: await freeOffset(), dataDir: options.dataDir ?? IN_MEMORY })
  const processes = new Map<string, ChildProcess>()
  const outputs = new Map<string, string>()
  const byName = (name: string) => {
    const service = services.find((candidate) => candidate.name === name)
    if (!service) throw new Error(`no service ${name}`)
    return service
  }

  async function start(name: string) {
    const service = byName(name)
    const child = spawnGroup(process.execPath, [...service.nodeOptions, join(ROOT, service.entry)], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'info', ...options.env, ...service.env, ...options.serviceEnv?.[name] },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    processes.set(name, child)
    const append = (chunk: Buffer) => outputs.set(name, (outputs.get(name) ?? '') + chunk.toString())
    child.stdout?.on('data', append)
    child.stderr?.on('data', append)
    // No deadline of its own: a PGlite first start is seconds of CPU that a busy machine stretches
    // many times over, and a service that cannot start exits by itself (its database wait is
    // DATABASE_STARTUP_TIMEOUT_MS). tap's timeout of the test file bounds the rest, this wait not
    // counted.
    const exited = new AbortController()
    const exit = once(child, 'exit').then(([code, signal]) => {
      exited.abort()
      throw new Error(`${name} exited (${signal ?? `code ${code}`}) while starting:\n${outputs.get(name)}`)
    })
    await notCountedAgainstTimeout(
      Promise.race([
        waitUntilReady(service.readyUrl, { timeoutMs: Number.POSITIVE_INFINITY, signal: exited.signal }),
        exit,
      ]),
    )
    exit.catch(() => {}) // an exit later on is the test's business
  }

  async function stop(name: string, signal: NodeJS.Signals = 'SIGTERM') {
    const child = processes.get(name)
    if (!child) return null
    const code = await stopGroup(child, signal)
    processes.delete(name)
    return code
  }

  const selected = services.filter((service) => !options.only || options.only.includes(service.name))
  try {
    await Promise.all(selected.map((service) => start(service.name)))
  } catch (error) {
    await Promise.all([...processes.keys()].map((name) => stop(name, 'SIGKILL')))
    throw error
  }

  return {
    services,
    url: (name) => byName(name).url,
    output: (name) => outputs.get(name) ?? '',
    start,
    stop,
    close: async () => {
      await Promise.all([...processes.keys()].map((name) => stop(name)))
    },
  }
}

export interface LauncherOptions {
  /** Shift of every port (default: a free one; 0: the original ports). */
  portOffset?: number
  /** Where the databases go (`CINEMA_DATA_DIR`). */
  dataDir: string
  /** Start only these services (default: all), as `npm run start:<name>` does. */
  only?: string[]
  /** Extra environment for the launcher and so every service. */
  env?: Record<string, string>
}

export interface RunningLauncher {
  services: Service[]
  /** Everything the launcher printed: its own lines and every service's, prefixed. */
  output(): string
  /** Signals the launcher (which stops every service) and returns its exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

const LAUNCHER_UP = /Cinema is up in [\d.]+ s/

/** The system as `npm start` runs it (scripts/start.mjs), returned once the launcher says it is up. */
export async function startLauncher(options: LauncherOptions): Promise<RunningLauncher> {
  const portOffset = options.portOffset ?? (await freeOffset())
  // Its services are in its process group: a launcher killed with SIGKILL cannot stop them itself.
  const launcher = spawnGroup(process.execPath, [join(ROOT, 'scripts/start.mjs'), ...(options.only ?? [])], {
    cwd: ROOT,
    env: {
      ...process.env,
      CINEMA_PORT_OFFSET: String(portOffset),
      CINEMA_DATA_DIR: options.dataDir,
      NO_COLOR: '1',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const append = (chunk: Buffer) => {
    output += chunk
  }
  launcher.stdout?.on('data', append)
  launcher.stderr?.on('data', append)
  const stop = (signal: NodeJS.Signals = 'SIGTERM') => stopGroup(launcher, signal)

  // The launcher polls every service's readiness itself (scripts/ready.mjs) and then says so, or
  // exits when one of them could not start: no deadline here, tap's timeout of the file bounds it,
  // this wait not counted.
  try {
    const up = new Promise<void>((resolve, reject) => {
      const onOutput = () => {
        if (LAUNCHER_UP.test(output)) settle()
      }
      const onExit = () => settle(new Error(`the launcher exited:\n${output}`))
      const settle = (error?: Error) => {
        launcher.stdout?.off('data', onOutput)
        launcher.off('exit', onExit)
        if (error) reject(error)
        else resolve()
      }
      launcher.stdout?.on('data', onOutput)
      launcher.on('exit', onExit)
    })
    await notCountedAgainstTimeout(up)
  } catch (error) {
    await stop('SIGKILL')
    throw error
  }
  const services = systemServices({ portOffset }).filter(
    (service) => !options.only || options.only.includes(service.name),
  )
  return { services, output: () => output, stop }
}
