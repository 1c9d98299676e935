#!/usr/bin/env node
// @ts-check
// Runs Cinema as local processes: every service (or the ones named), each line of their logs
// prefixed with the service's name, all stopped together on Ctrl-C, SIGTERM or `npm run stop`.
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { formatLogLine } from './log-format.mjs'
import { PID_DIR, ROOT, systemServices } from './services.mjs'

const STOP_TIMEOUT_MS = 15_000
const READY_TIMEOUT_MS = 60_000

// CINEMA_PORT_OFFSET and CINEMA_DATA_DIR let a second system run beside the first (tests do).
const SERVICES = systemServices({
  portOffset: Number(process.env.CINEMA_PORT_OFFSET ?? 0),
  dataDir: process.env.CINEMA_DATA_DIR || undefined,
})
const requested = process.argv.slice(2)
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

let stopping = false
let allReady = false
/** @type {Map<string, import('node:child_process').ChildProcess>} */
const children = new Map()
const started = performance.now()

for (const service of selected) {
  const child = spawn(process.execPath, [...service.nodeOptions, join(ROOT, service.entry)], {
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

/** Polls every selected service's readiness until all answer, then says where to go. */
async function announceWhenReady() {
  const deadline = Date.now() + READY_TIMEOUT_MS
  const pending = new Set(selected)
  while (pending.size > 0 && !stopping) {
    if (Date.now() > deadline) {
      process.stdout.write(`still waiting for: ${[...pending].map((s) => s.name).join(', ')}\n`)
      return
    }
    for (const service of pending) {
      const ready = await fetch(service.readyUrl, { signal: AbortSignal.timeout(1_000) })
        .then((response) => response.ok)
        .catch(() => false)
      if (ready) pending.delete(service)
    }
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  if (stopping) return
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
