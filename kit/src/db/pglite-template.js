// @ts-check
// Plain JavaScript, so that `npm start`'s preparation (scripts/prepare-start.mjs, run without a
// build) makes the template while the services are compiled, as the services themselves would.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { basename, dirname, join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isAlive } from './process-alive.js'

/**
 * Creates a new PGlite data directory as a copy of a template: a fresh database made once per
 * PGlite version (initdb is most of a first start: seconds of CPU per database, and both users and
 * bookings need one at once). The template is kept in `templateRoot`, by default beside PGlite in
 * node_modules/.cache/cinema, so a reinstall or an upgrade makes a new one.
 * @param {string} dataDir
 * @param {string} [templateRoot]
 */
export function initialiseDataDir(dataDir, templateRoot) {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return
  cpSync(pgliteTemplate(templateRoot), dataDir, { recursive: true })
}

/**
 * The template for the installed PGlite, made now when there is none yet; its directory.
 * @param {string} [templateRoot]
 * @returns {string}
 */
export function pgliteTemplate(templateRoot) {
  const pglite = fileURLToPath(import.meta.resolve('@electric-sql/pglite'))
  const template = templateFor(pglite, templateRoot)
  if (!existsSync(join(template, 'PG_VERSION'))) createTemplate(pglite, template)
  return template
}

/**
 * Where the template for the installed PGlite (`pglite`: its entry point) is kept.
 * @param {string} pglite
 * @param {string | undefined} templateRoot
 */
function templateFor(pglite, templateRoot) {
  const packageDir = pglite.slice(0, pglite.lastIndexOf(`${sep}dist${sep}`))
  const { version } = /** @type {{ version: string }} */ (
    JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))
  )
  const root = templateRoot ?? join(dirname(dirname(packageDir)), '.cache', 'cinema')
  return join(root, `pglite-${version}`)
}

/**
 * initdb in a short-lived child process (inside the service it would leave ~700 MB it never gives
 * back), into a directory of its own renamed into place when complete: processes that start at once
 * may each make one, the first rename wins, and none ever sees half a template.
 * @param {string} pglite
 * @param {string} template
 */
function createTemplate(pglite, template) {
  const draft = `${template}.${process.pid}-${Date.now()}`
  mkdirSync(dirname(template), { recursive: true })
  removeAbandonedDrafts(template)
  const script =
    'const { PGlite } = await import(process.argv[1]); await (await PGlite.create(process.argv[2])).close()'
  const result = spawnSync(process.execPath, ['--input-type=module', '--eval', script, pglite, draft], {
    encoding: 'utf8',
  })
  try {
    if (result.status !== 0) throw new Error(`could not create a database in ${draft}: ${result.stderr}`)
    renameSync(draft, template)
  } catch (error) {
    const code = /** @type {NodeJS.ErrnoException} */ (error).code
    // Another process's template took the place first: as good as this one.
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error
  } finally {
    rmSync(draft, { recursive: true, force: true })
  }
}

/**
 * Drafts of `template` whose process was killed before it could remove them.
 * @param {string} template
 */
function removeAbandonedDrafts(template) {
  const prefix = `${basename(template)}.`
  for (const entry of readdirSync(dirname(template))) {
    if (!entry.startsWith(prefix)) continue
    const pid = Number(entry.slice(prefix.length).split('-')[0])
    if (pid && !isAlive(pid)) rmSync(join(dirname(template), entry), { recursive: true, force: true })
  }
}
