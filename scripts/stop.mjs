#!/usr/bin/env node
// @ts-check
// Stops what `npm start` (or `npm run start:<service>`) started, gracefully: SIGTERM to each launcher.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PID_DIR, ROOT } from './services.mjs'

const LAUNCHER = join(ROOT, 'scripts', 'start.mjs')

/**
 * The arguments and working directory of process `pid`, or undefined when there is no such process
 * (or it is not ours to look at). Without /proc (macOS), `ps` gives the arguments but no directory.
 * @param {number} pid
 * @returns {{ args: string[], cwd: string | undefined } | undefined}
 */
function commandLine(pid) {
  if (existsSync('/proc/self/cmdline')) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
      return { args, cwd: readlinkSync(`/proc/${pid}/cwd`) }
    } catch {
      return undefined
    }
  }
  const ps = spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' })
  return ps.status === 0 ? { args: ps.stdout.trim().split(/\s+/), cwd: undefined } : undefined
}

/**
 * Whether `pid` is this repository's launcher. A pid file outlives a launcher killed with SIGKILL,
 * and its number may since have gone to any other process, which must not get our SIGTERM.
 * @param {number} pid
 */
export function isLauncher(pid) {
  const command = commandLine(pid)
  if (!command) return false
  return command.args.some((arg) =>
    command.cwd ? resolve(command.cwd, arg) === LAUNCHER : arg.endsWith('scripts/start.mjs'),
  )
}

/**
 * SIGTERM to every launcher named in `pidDir`; pid files naming anything else are removed.
 * @param {string} pidDir
 * @returns {{ stopped: number, stale: number }}
 */
export function stopLaunchers(pidDir) {
  /** @type {string[]} */
  let files = []
  try {
    files = readdirSync(pidDir).filter((file) => file.endsWith('.pid'))
  } catch {
    // no directory: nothing was started
  }
  let stopped = 0
  let stale = 0
  for (const file of files) {
    const pid = Number(readFileSync(join(pidDir, file), 'utf8'))
    if (Number.isInteger(pid) && pid > 0 && isLauncher(pid)) {
      try {
        process.kill(pid, 'SIGTERM')
        stopped += 1
        continue
      } catch {
        // it ended since
      }
    }
    rmSync(join(pidDir, file), { force: true }) // left by a launcher that is gone
    stale += 1
  }
  return { stopped, stale }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { stopped, stale } = stopLaunchers(PID_DIR)
  if (stale) process.stdout.write(`removed ${stale} pid file(s) of launcher(s) no longer running\n`)
  process.stdout.write(stopped ? `asked ${stopped} running Cinema launcher(s) to stop\n` : 'Cinema is not running\n')
}
