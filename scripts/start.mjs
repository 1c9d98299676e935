#!/usr/bin/env node
// @ts-check
// Runs Cinema as local processes: every service (or the ones named), each line of their logs
// prefixed with the service's name, all stopped together on Ctrl-C, SIGTERM or `npm run stop`.
// Each runs its bundle, made first when its sources changed (prepare-start.mjs). With --watch
// (`npm run dev`) each runs from its TypeScript source under `tsx watch`, which restarts it when a
// file it loads changes: its own source or the kit's.
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { formatLogLine } from './log-format.mjs'
import { prepareStart } from './prepare-start.mjs'
import { waitUntilReady } from './ready.mjs'
import { PID_DIR, ROOT, systemServices } from './services.mjs'

const STOP_TIMEOUT_MS = 15_000
// No deadline of its own for readiness: a service that cannot start exits by itself (its database
// wait is DATABASE_STARTUP_TIMEOUT_MS, and Fastify's plugin timeout is longer than that), and the
// launcher then stops the others. Until then it says every so often what it is waiting for.
const WAITING_NOTE_EVERY_MS = 15_000

// CINEMA_PORT_OFFSET and CINEMA_DATA_DIR let a second system run beside the first (tests do).
const SERVICES = systemServices({
  portOffset: Number(process.env.CINEMA_PORT_OFFSET ?? 0),
  dataDir: process.env.CINEMA_DATA_DIR || undefined,
})
const watch = process.argv.includes('--watch')
const requested = process.argv.slice(2).filter((arg) => arg !== '--watch')
const unknown = requested.filter((name) => !SERVICES.some((service) => service.name === name))
if (unknown.length > 0) {
  process.stderr.write(`unknown service: ${unknown.join(', ')} (known: ${SERVICES.map((s) => s.name).join(', ')})\n`)
  process.exit(2)
}
const selected = SERVICES.filter((service) => requested.length === 0 || requested.includes(service.name))
const width = Math.max(...selected.map((service) => service.name.length))
const colour = process.stdout.isTTY && !process.env.NO_COLOR
const raw = process.env.LOG_FORMAT === 'json'

/** @param {import('./services.mjs').Service} service @param {string} line */
function print(service, line) {
  const label = service.name.padEnd(width)
  const prefix = colour ? `\x1b[${service.colour}m${label}\x1b[0m │` : `${label} │`
  process.stdout.write(`${prefix} ${raw ? line : formatLogLine(line, colour)}\n`)
}

// Counted from here: what the services take to start, preparation apart (it is seconds only when
// something changed).
if (!watch && !(await prepareStart())) process.exit(1)

let stopping = false
const stopped = new AbortController()
let allReady = false
/** @type {Map<string, import('node:child_process').ChildProcess>} */
const children = new Map()
const started = performance.now()

/**
 * Node's arguments for a service: its compiled entry point, or with --watch its source under tsx,
 * with the kit's source too (the `cinema-source` export condition), so no build is needed.
 * @param {import('./services.mjs').Service} service
 */
function nodeArguments(service) {
  if (!watch) return [...service.nodeOptions, join(ROOT, service.entry)]
  const tsx = fileURLToPath(import.meta.resolve('tsx/cli'))
  const options = ['--clear-screen=false', '--conditions=cinema-source', ...service.nodeOptions]
  return [tsx, 'watch', ...options, join(ROOT, service.source)]
}

for (const service of selected) {
  const child = spawn(process.execPath, nodeArguments(service), {
    cwd: ROOT,
    env: { ...process.env, ...service.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.set(service.name, child)
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => print(service, line))
  }
  child.on('exit', (code, signal) => {
    children.delete(service.name)
    if (stopping) {
      if (children.size === 0) finish(0)
      return
    }
    if (allReady) {
      // Keep the rest running: the service can be restarted alone (`npm run start:<name>`).
      print(service, `exited (${signal ?? `code ${code}`}); the others keep running`)
      if (children.size === 0) finish(1)
      return
    }
    print(service, `exited (${signal ?? `code ${code}`}) while starting; stopping the others`)
    stopAll(1)
  })
}

mkdirSync(PID_DIR, { recursive: true })
const pidFile = join(PID_DIR, `${process.pid}.pid`)
writeFileSync(pidFile, String(process.pid))

/** @param {number} code */
function finish(code) {
  rmSync(pidFile, { force: true })
  process.exit(code)
}

/** @param {number} code */
function stopAll(code) {
  if (stopping) return
  stopping = true
  stopped.abort()
  process.exitCode = code
  if (children.size === 0) finish(code)
  for (const child of children.values()) child.kill('SIGTERM')
  setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL')
    finish(1)
  }, STOP_TIMEOUT_MS).unref()
}

process.on('SIGINT', () => stopAll(0))
process.on('SIGTERM', () => stopAll(0))
process.on('exit', () => {
  for (const child of children.values()) child.kill('SIGKILL')
})

/** Waits for every selected service's readiness, then says where to go. */
async function announceWhenReady() {
  const pending = new Set(selected)
  const note = setInterval(() => {
    process.stdout.write(`still waiting for: ${[...pending].map((s) => s.name).join(', ')}
`)
  }, WAITING_NOTE_EVERY_MS)
  await Promise.allSettled(
    selected.map(async (service) => {
      await waitUntilReady(service.readyUrl, {
        timeoutMs: Number.POSITIVE_INFINITY,
        intervalMs: 100,
        signal: stopped.signal,
      })
      pending.delete(service)
    }),
  )
  clearInterval(note)
  if (stopping || pending.size > 0) return
  allReady = true
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  const links = selected
    .map((service) => `${service.name} ${service.url}`)
    .concat(
      selected
        .filter((service) => service.metricsPort !== undefined)
        .map((service) => `${service.name} metrics http://127.0.0.1:${service.metricsPort}/metrics`),
    )
    .join(' · ')
  process.stdout.write(`\nCinema is up in ${seconds} s: ${links}\nCtrl-C stops everything.\n\n`)
}
announceWhenReady()
