// The first visit to any page downloads index.html's scripts and styles; keep that small.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import t from 'tap'
import { BUILT_APP, builtIndexHtml, initialAssets } from './helpers/build.js'

const BUDGET_BYTES = 80 * 1024

t.test('the JavaScript and CSS a page loads first fit in 80 KB gzipped', async (t) => {
  const assets = initialAssets(builtIndexHtml())
  t.ok(
    assets.some((path) => path.endsWith('.js')),
    'a script',
  )
  t.ok(
    assets.some((path) => path.endsWith('.css')),
    'a stylesheet',
  )
  const gzipped = assets.map((path) => gzipSync(readFileSync(join(BUILT_APP, path))).length)
  const total = gzipped.reduce((sum, size) => sum + size, 0)
  t.ok(total <= BUDGET_BYTES, `${(total / 1024).toFixed(1)} KB gzipped of ${BUDGET_BYTES / 1024} KB`)
})
