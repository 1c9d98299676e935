import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Where `npm run build -w ui` puts the web app. */
export const BUILT_APP = fileURLToPath(new URL('../../dist/public', import.meta.url))

/** The built index.html; tests of what is served need the real build. */
export function builtIndexHtml(): string {
  const file = `${BUILT_APP}/index.html`
  if (!existsSync(file)) throw new Error(`no built web app at ${BUILT_APP}: run \`npm run build\` first`)
  return readFileSync(file, 'utf8')
}

/** The files index.html makes the browser load at once: its scripts, module preloads and stylesheets. */
export function initialAssets(html: string): string[] {
  const references = [...html.matchAll(/<(?:script|link)\b[^>]*?\b(?:src|href)="(\/assets\/[^"]+)"/g)]
  return references.map((match) => match[1] ?? '').filter((path) => /\.(?:js|css)$/.test(path))
}
