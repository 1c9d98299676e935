// @ts-check
// What `npm start` needs before the launcher starts the services, done at once rather than in turn: the services
// bundled when their sources changed (scripts/bundle.mjs; without type checking: `npm run build`,
// `npm test` and `npm run lint` check types), the web app built when its sources changed, and the
// embedded database's template made, once per PGlite version, while those run.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { IN_MEMORY } from '../kit/src/db/in-memory.js'
import { pgliteTemplate } from '../kit/src/db/pglite-template.js'
import { SERVICE_BUNDLES, stale } from './bundle.mjs'
import { ROOT } from './services.mjs'

// Resolved as the web app resolves them (vite exports no path to its command).
const require = createRequire(join(ROOT, 'ui', 'package.json'))
const VITE = join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js')
const WEB_APP = join(ROOT, 'ui', 'dist', 'public', 'index.html')
// What the web app is built from: its own sources and the kit modules it reads from source.
const WEB_APP_SOURCES = ['ui/index.html', 'ui/vite.config.ts', 'ui/package.json', 'ui/src', 'ui/public', 'kit/src']

/**
 * Runs node with `args` in `cwd`; resolves when it exits 0, rejects with its output otherwise.
 * @param {string[]} args
 * @param {string} cwd
 * @returns {Promise<void>}
 */
function run(args, cwd = ROOT) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk) => (output += chunk))
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(output || `exit ${code}`))))
  })
}

/**
 * The latest modification time of `path`, a file or everything under a directory.
 * @param {string} path
 * @returns {number}
 */
function newest(path) {
  const stats = statSync(path)
  if (!stats.isDirectory()) return stats.mtimeMs
  return Math.max(stats.mtimeMs, ...readdirSync(path).map((entry) => newest(join(path, entry))))
}

function webAppIsStale() {
  if (!existsSync(WEB_APP)) return true
  const built = statSync(WEB_APP).mtimeMs
  return WEB_APP_SOURCES.some((source) => newest(join(ROOT, source)) > built)
}

/**
 * Brings the bundles, the web app and the database template up to date; says whether all went
 * well (what failed is written to stderr).
 * @returns {Promise<boolean>}
 */
export async function prepareStart() {
  const work = []
  if (stale(SERVICE_BUNDLES)) work.push(run([join(ROOT, 'scripts', 'bundle.mjs')]))
  if (webAppIsStale()) work.push(run([VITE, 'build', '--logLevel', 'warn'], join(ROOT, 'ui')))
  // esbuild and Vite run in their own processes meanwhile; this waits for initdb (seconds, once).
  const databasesOnDisk = process.env.CINEMA_DATA_DIR !== IN_MEMORY
  if (databasesOnDisk && existsSync(join(ROOT, 'node_modules', '@electric-sql', 'pglite'))) pgliteTemplate()

  const failures = (await Promise.allSettled(work)).filter((result) => result.status === 'rejected')
  for (const failure of failures)
    process.stderr.write(`${failure.reason instanceof Error ? failure.reason.message : failure.reason}\n`)
  return failures.length === 0
}
