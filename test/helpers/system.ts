// Starts the whole system (or part of it) as `npm start` does, on shifted ports, for end-to-end tests.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ROOT, type Service, systemServices } from '../../scripts/services.mjs'
import { portIsFree } from './ports.js'

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

export async function waitUntilReady(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1_000) })
      .then((response) => response.ok)
      .catch(() => false)
    if (ready) return
    await sleep(50)
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms`)
}

export async function startSystem(options: SystemOptions = {}): Promise<RunningSystem> {
  const services = systemServices({ portOffset: await freeOffset(), dataDir: options.dataDir ?? 'memory://' })
  const processes = new Map<string, ChildProcess>()
  const outputs = new Map<string, string>()
  const byName = (name: string) => {
    const service = services.find((candidate) => candidate.name === name)
    if (!service) throw new Error(`no service ${name}`)
    return service
  }

  async function start(name: string) {
    const service = byName(name)
    const child = spawn(process.execPath, [...service.nodeOptions, join(ROOT, service.entry)], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'info', ...options.env, ...service.env, ...options.serviceEnv?.[name] },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    processes.set(name, child)
    const append = (chunk: Buffer) => outputs.set(name, (outputs.get(name) ?? '') + chunk.toString())
    child.stdout?.on('data', append)
    child.stderr?.on('data', append)
    await Promise.race([
      waitUntilReady(service.url),
      once(child, 'exit').then(([code]) => {
        throw new Error(`${name} exited with ${code} while starting:\n${outputs.get(name)}`)
      }),
    ])
  }

  async function stop(name: string, signal: NodeJS.Signals = 'SIGTERM') {
    const child = processes.get(name)
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null
    const exited = once(child, 'exit')
    child.kill(signal)
    const [code] = await exited
    processes.delete(name)
    return code as number | null
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
