// docs/API.md lists exactly the operations each running service documents in its OpenAPI
// document, with the same status codes: none missing from the reference, none it invents.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { startSystem } from '../helpers/system.js'

const REFERENCE = new URL('../../docs/API.md', import.meta.url)
const METHODS = ['get', 'put', 'post', 'patch', 'delete']

interface OpenApiDocument {
  paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>
}

/** `GET /movies/{id} 200,404` for each operation, sorted: one line each, for a readable diff. */
function operationsOf(document: OpenApiDocument): string[] {
  return Object.entries(document.paths)
    .flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([method]) => METHODS.includes(method))
        .map(
          ([method, operation]) => `${method.toUpperCase()} ${path} ${Object.keys(operation.responses ?? {}).sort()}`,
        ),
    )
    .sort()
}

/**
 * The table rows of docs/API.md by section: a section named (`service`, port …) holds that
 * service's operations, the probes section those every service has, the metrics section those
 * every service but the gateway has on its app port.
 */
function referenceOperations(markdown: string): {
  common: string[]
  metrics: string[]
  byService: Map<string, string[]>
} {
  const byService = new Map<string, string[]>()
  let common: string[] = []
  let metrics: string[] = []
  for (const section of markdown.split(/^## /m).slice(1)) {
    const heading = section.slice(0, section.indexOf('\n'))
    const rows = [...section.matchAll(/^\| `([A-Z]+) ([^`]+)` +\| ([\d, ]+) \|/gm)].map(
      ([, method, path, statuses]) => `${method} ${path} ${(statuses ?? '').trim().split(/, */).sort()}`,
    )
    const service = /\(`(\w+)`, port \d+\)/.exec(heading)?.[1]
    if (service) byService.set(service, rows)
    else if (heading.startsWith('Probes')) common = rows
    else if (heading.startsWith('Metrics')) metrics = rows
  }
  return { common, metrics, byService }
}

t.test('docs/API.md lists every operation of every service, and only those', async (t) => {
  const { common, metrics, byService } = referenceOperations(readFileSync(REFERENCE, 'utf8'))
  t.ok(common.length > 0, 'the probes section lists the operations every service has')
  const system = await startSystem()
  t.teardown(() => system.close())
  t.same([...byService.keys()].sort(), system.services.map((service) => service.name).sort(), 'a section per service')
  for (const service of system.services) {
    const response = await fetch(`${service.url}/openapi.json`)
    t.equal(response.status, 200, `${service.name} serves its OpenAPI document`)
    const documented = operationsOf((await response.json()) as OpenApiDocument)
    // The gateway's /metrics is on its operations port, outside its public API document.
    const ownMetrics = service.name === 'gateway' ? [] : metrics
    t.same(
      [...common, ...ownMetrics, ...(byService.get(service.name) ?? [])].sort(),
      documented,
      `${service.name}: same operations`,
    )
  }
})
