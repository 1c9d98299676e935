#!/usr/bin/env node
// @ts-check
// Bundles each service `npm start` runs into one file (its `entry` in services.mjs), from its
// TypeScript source and the kit's, with esbuild. Six processes each resolving and loading ~1,000
// module files were most of a start on two cores; from one file each, a start takes 8 CPU-seconds
// instead of 14 and is up in 4 s instead of 6.8. Rebuilt only when a file it was made from changed.
// The images keep running tsc's output (`npm run build`) beside their node_modules.
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { ROOT, systemServices } from './services.mjs'

// This script, absolute: a change to how bundles are made makes them stale.
const SELF = fileURLToPath(import.meta.url)
/** What the last build was made from, for `root`. @param {string} root */
const recordOf = (root) => join(root, 'node_modules', '.cache', 'cinema', 'bundles.json')

// Packages that read files beside their own code (static assets, a WebAssembly build, a native
// addon, pino's transport worker) stay in node_modules, imported from there.
const EXTERNAL = [
  '@electric-sql/pglite',
  '@fastify/static',
  '@fastify/swagger',
  '@fastify/swagger-ui',
  '@node-rs/argon2',
  'pino',
  'pino-pretty',
]

/** @satisfies {import('esbuild').BuildOptions} */
const OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  // The kit from its TypeScript source, as `npm run dev` reads it.
  conditions: ['cinema-source'],
  external: EXTERNAL,
  // CommonJS packages in an ES module bundle still call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  // For stack traces in TypeScript's lines: NODE_OPTIONS=--enable-source-maps npm start.
  sourcemap: 'linked',
  logLevel: 'warning',
  metafile: true,
  // A third less to parse at every start; identifiers are not minified, so stack traces stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
}

/**
 * When `path` (relative to `root`, or absolute) last changed; undefined when it does not exist.
 * @param {string} root
 * @param {string} path
 */
function modified(root, path) {
  try {
    return statSync(resolve(root, path)).mtimeMs
  } catch {
    return undefined
  }
}

/**
 * Files that steer how the sources resolve and compile without being among esbuild's inputs: the
 * lockfile, and the package.json and tsconfig files of the root and of each workspace (a changed
 * `exports` makes a package name another file).
 * @param {string} root
 */
function settingsFiles(root) {
  const folders = ['.']
  try {
    folders.push(...(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces ?? []))
  } catch {}
  return folders.flatMap((folder) =>
    readdirSync(join(root, folder))
      .filter((name) => /^(package(-lock)?|tsconfig(\..+)?)\.json$/.test(name))
      .map((name) => join(folder, name)),
  )
}

// A file changed this long before a build started still makes its bundles stale: file times come
// from a coarser clock than Date.now(), and an edit made as the build began may not be in it.
const CLOCK_MARGIN_MS = 1_000

/**
 * What to bundle: a TypeScript entry point and its bundle, both relative to the repository root.
 * @typedef {{ source: string, entry: string }} Bundle
 */

/** Every service's bundle, as the launcher runs it. */
export const SERVICE_BUNDLES = systemServices().map(({ source, entry }) => ({ source, entry }))

/**
 * Whether any of `bundles` is missing, or a file it was made from (settings and this script
 * included) is gone or changed since its build began.
 * @param {Bundle[]} bundles
 * @param {string} [root]  what their paths are relative to
 */
export function stale(bundles, root = ROOT) {
  /** @type {{ bundles: Bundle[], startedAt: number, inputs: string[] }} */
  let record
  try {
    record = JSON.parse(readFileSync(recordOf(root), 'utf8'))
  } catch {
    return true
  }
  if (JSON.stringify(record.bundles) !== JSON.stringify(bundles)) return true
  if (bundles.some((bundle) => modified(root, bundle.entry) === undefined)) return true
  return record.inputs.some(
    (input) => (modified(root, input) ?? Number.POSITIVE_INFINITY) >= record.startedAt - CLOCK_MARGIN_MS,
  )
}

/**
 * Writes `contents` to `path` whole or not at all: a process starting from it meanwhile (another
 * launcher, a test) reads the old file or the new one, never half of one.
 * @param {string} path
 * @param {string | Uint8Array} contents
 */
function replaceFile(path, contents) {
  mkdirSync(dirname(path), { recursive: true })
  const partial = `${path}.${process.pid}.partial`
  writeFileSync(partial, contents)
  renameSync(partial, path)
}

/**
 * Makes `bundles` unless they are up to date; says whether it built. Builds running at once (two
 * launchers) each write whole files, from the same sources.
 * @param {Bundle[]} bundles
 * @param {string} [root]  what their paths are relative to
 */
export async function bundleServices(bundles, root = ROOT) {
  if (!stale(bundles, root)) return false
  const startedAt = Date.now()
  const entryPoints = Object.fromEntries(bundles.map(({ source, entry }) => [entry.replace(/\.js$/, ''), source]))
  // Imported only to build: checking that the bundles are up to date is all a usual start does.
  const { build } = await import('esbuild')
  const result = await build({ ...OPTIONS, absWorkingDir: root, entryPoints, outdir: root, write: false })
  for (const file of result.outputFiles) replaceFile(file.path, file.contents)
  const inputs = [...Object.keys(result.metafile.inputs), ...settingsFiles(root), SELF]
  replaceFile(recordOf(root), JSON.stringify({ bundles, startedAt, inputs }))
  return true
}

// `node scripts/bundle.mjs`: every service's bundle (npm start's preparation runs it in a process
// of its own, beside Vite and the database template).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await bundleServices(SERVICE_BUNDLES)
