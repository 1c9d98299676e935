// Driving a Compose project from a test: `docker compose -p <project> [-f …] …`, its containers,
// HTTP calls against what it publishes, and a `down -v` that runs however the test ends.
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export interface Run {
  code: number | null
  output: string
}

export interface Container {
  ID: string
  Name: string
  Service: string
  State: string
  Health: string
  ExitCode: number
}

export const tail = (text: string, lines = 60) => text.trimEnd().split('\n').slice(-lines).join('\n')

/** `docker …`, its stdout; throws with its stderr when it fails. */
export function docker(args: string[]): string {
  const run = spawnSync('docker', args, { encoding: 'utf8' })
  if (run.status !== 0) throw new Error(`docker ${args.join(' ')}: ${run.stderr || run.error}`)
  return run.stdout
}

/**
 * One Compose project in the repository: `project` names it, `files` are its `-f` files (none:
 * compose.yaml alone), `env` is added to the environment Compose interpolates from.
 */
export function composeProject(project: string, files: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const base = ['compose', '--ansi', 'never', '-p', project, ...files.flatMap((file) => ['-f', file])]

  /** `docker compose … args`, its stdout and stderr together. */
  function compose(args: string[], timeoutMs = 120_000): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn('docker', [...base, ...args], {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let output = ''
      child.stdout.on('data', (chunk) => {
        output += chunk
      })
      child.stderr.on('data', (chunk) => {
        output += chunk
      })
      const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs)
      child.on('error', reject)
      child.on('close', (code) => {
        clearTimeout(timer)
        resolve({ code, output })
      })
    })
  }

  /** As `compose`, but a failure throws with the state and the last logs of every container. */
  async function composeOk(args: string[], timeoutMs?: number): Promise<string> {
    const run = await compose(args, timeoutMs)
    if (run.code !== 0) {
      const state = await compose(['ps', '-a'])
      const logs = await compose(['logs', '--no-color', '--tail', '20'])
      throw new Error(
        `docker compose ${args.join(' ')} exited ${run.code}:\n${tail(run.output)}\n\n${state.output}\n${tail(logs.output, 150)}`,
      )
    }
    return run.output
  }

  /** `docker compose ps --format json`: one object per line (Compose ≥ 2.21) or one array (older). */
  async function containers(): Promise<Container[]> {
    const output = (await composeOk(['ps', '--all', '--format', 'json'])).trim()
    if (!output) return []
    if (output.startsWith('[')) return JSON.parse(output)
    return output.split('\n').map((line) => JSON.parse(line))
  }

  let tornDown = false
  /** `down -v`, once. */
  async function teardown() {
    if (tornDown) return
    tornDown = true
    await compose(['down', '--volumes', '--remove-orphans', '--timeout', '5'], 180_000)
  }
  // A run cut short (Ctrl-C, tap's timeout, an uncaught error) still leaves nothing behind.
  function teardownNow() {
    if (tornDown) return
    tornDown = true
    spawnSync('docker', [...base, 'down', '--volumes', '--remove-orphans', '--timeout', '5'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: 'ignore',
    })
  }
  process.once('exit', teardownNow)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      teardownNow()
      process.kill(process.pid, signal)
    })
  }

  /** The ids of the project's containers and volumes still there (both empty after `teardown`). */
  function leftovers() {
    const filter = `label=com.docker.compose.project=${project}`
    return {
      containers: docker(['ps', '--all', '--quiet', '--filter', filter]).trim(),
      volumes: docker(['volume', 'ls', '--quiet', '--filter', filter]).trim(),
    }
  }

  return { compose, composeOk, containers, teardown, leftovers }
}

export interface Answer {
  status: number
  headers: Headers
  text: string
}

export async function request(target: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(target, { ...init, signal: AbortSignal.timeout(10_000) })
  return { status: response.status, headers: response.headers, text: await response.text() }
}

export const json = (answer: Answer): unknown => {
  try {
    return JSON.parse(answer.text)
  } catch {
    return answer.text
  }
}

/** Asks until `done` holds or the time is up; the last answer either way. */
export async function poll(target: string, done: (answer: Answer) => boolean, timeoutMs: number): Promise<Answer> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const answer = await request(target).catch(
      (error: Error): Answer => ({ status: 0, headers: new Headers(), text: error.message }),
    )
    if (done(answer) || Date.now() > deadline) return answer
    await sleep(100)
  }
}
