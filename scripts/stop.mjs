#!/usr/bin/env node
// @ts-check
// Stops what `npm start` (or `npm run start:<service>`) started, gracefully: SIGTERM to each launcher.
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { PID_DIR } from './services.mjs'

/** @type {string[]} */
let files = []
try {
  files = readdirSync(PID_DIR).filter((file) => file.endsWith('.pid'))
} catch {
  // no directory: nothing was started
}
let stopped = 0
for (const file of files) {
  const pid = Number(readFileSync(join(PID_DIR, file), 'utf8'))
  try {
    process.kill(pid, 'SIGTERM')
    stopped += 1
  } catch {
    rmSync(join(PID_DIR, file), { force: true }) // left by a launcher that is gone
  }
}
process.stdout.write(stopped ? `asked ${stopped} running Cinema launcher(s) to stop\n` : 'Cinema is not running\n')
