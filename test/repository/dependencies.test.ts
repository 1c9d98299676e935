// Every version pinned exactly (or to one minor) in any package.json says why, in that file's "//"
// field (npm's conventional place for comments); ranges need no reason.
import { readFileSync } from 'node:fs'
import t from 'tap'

const ROOT = new URL('../../', import.meta.url)
const FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'] as const

interface Manifest {
  workspaces?: string[]
  '//'?: Record<string, string>
  [field: string]: unknown
}

const read = (path: string): Manifest => JSON.parse(readFileSync(new URL(path, ROOT), 'utf8'))
const root = read('package.json')
const manifests = new Map([['package.json', root]])
for (const workspace of root.workspaces ?? [])
  manifests.set(`${workspace}/package.json`, read(`${workspace}/package.json`))

t.test('every pinned version carries a comment saying why', async (t) => {
  for (const [path, manifest] of manifests) {
    for (const field of FIELDS) {
      const dependencies = (manifest[field] ?? {}) as Record<string, string>
      for (const [name, version] of Object.entries(dependencies)) {
        if (/^[\^~]/.test(version)) continue
        t.ok((manifest['//']?.[name] ?? '').length >= 20, `${path}: ${name} ${version} says why in "//"`)
      }
    }
  }
})
