// `npm start` runs each service from one bundled file (scripts/bundle.mjs): rebuilt exactly when a
// file it was made from changed, and cheaper to start than tsc's tree of modules, which is what
// made the next `npm start` take 7.4 s on two cores.
import { execFileSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { bundleServices, SERVICE_BUNDLES, stale } from '../../scripts/bundle.mjs'
import { waitUntilReady } from '../../scripts/ready.mjs'
import { ROOT, systemServices } from '../../scripts/services.mjs'
import { freePort } from '../helpers/ports.js'
import { spawnGroup, stopGroup } from '../helpers/processes.js'

t.test('the launcher runs every service from its bundle', async (t) => {
  for (const service of systemServices()) {
    t.match(service.entry, /^[a-z]+\/dist\/server\.bundle\.js$/, `${service.name} runs its bundle`)
    t.ok(existsSync(join(ROOT, service.entry)), `${service.name}: ${service.entry} built`)
  }
  t.same(
    SERVICE_BUNDLES.map((bundle) => bundle.source),
    systemServices().map((service) => service.source),
    'each made from the source `npm run dev` runs',
  )
})

/** Every file under `root` as if written a minute ago: what a test writes next is newer than any build. */
function backdate(root: string) {
  const minuteAgo = new Date(Date.now() - 60_000)
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true }))
    if (entry.isFile()) utimesSync(join(entry.parentPath, entry.name), minuteAgo, minuteAgo)
}

t.test('a bundle is rebuilt when, and only when, a file it was made from changed', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cinema-bundle-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  mkdirSync(join(root, 'src'))
  writeFileSync(join(root, 'package.json'), '{"type":"module"}')
  writeFileSync(join(root, 'package-lock.json'), '{}')
  writeFileSync(join(root, 'tsconfig.json'), '{}')
  writeFileSync(join(root, 'src', 'server.ts'), "import { greeting } from './greeting.js'\nconsole.log(greeting)\n")
  const greeting = join(root, 'src', 'greeting.ts')
  writeFileSync(greeting, "export const greeting: string = 'hello'\n")
  backdate(root)
  const bundles = [{ source: 'src/server.ts', entry: 'dist/server.bundle.js' }]
  const run = () => execFileSync(process.execPath, [join(root, 'dist', 'server.bundle.js')], { encoding: 'utf8' })
  const record = () =>
    JSON.parse(readFileSync(join(root, 'node_modules', '.cache', 'cinema', 'bundles.json'), 'utf8')) as {
      startedAt: number
      inputs: string[]
    }

  t.ok(stale(bundles, root), 'never built: stale')
  t.ok(await bundleServices(bundles, root), 'built')
  t.equal(run(), 'hello\n', 'the bundle runs the TypeScript source and what it imports')
  t.notOk(stale(bundles, root), 'up to date once built')
  t.notOk(await bundleServices(bundles, root), 'not rebuilt when nothing changed')

  writeFileSync(greeting, "export const greeting: string = 'bonjour'\n")
  t.ok(stale(bundles, root), 'an imported file changed: stale')
  t.ok(await bundleServices(bundles, root), 'rebuilt')
  t.equal(run(), 'bonjour\n', 'with the change')
  backdate(root)
  t.notOk(stale(bundles, root), 'up to date once rebuilt')

  // Changed while the build ran: after it began, before the bundle was written.
  const duringBuild = new Date(record().startedAt + 5)
  utimesSync(greeting, duringBuild, duringBuild)
  t.ok(stale(bundles, root), 'a file changed while its bundle was being built: stale')

  for (const settings of ['package-lock.json', 'package.json', 'tsconfig.json']) {
    await bundleServices(bundles, root)
    backdate(root)
    t.notOk(stale(bundles, root), `up to date before ${settings} changes`)
    writeFileSync(join(root, settings), settings === 'package.json' ? '{"type":"module","name":"x"}' : '{ }')
    t.ok(stale(bundles, root), `${settings} changed (how sources resolve or compile may have): stale`)
  }
  await bundleServices(bundles, root)
  rmSync(join(root, 'dist', 'server.bundle.js'))
  t.ok(stale(bundles, root), 'a bundle deleted: stale')
  rmSync(join(root, 'tsconfig.json'))
  t.ok(stale(bundles, root), 'a file it was made from deleted: stale')
  t.ok(
    stale([...bundles, { source: 'src/greeting.ts', entry: 'dist/greeting.bundle.js' }], root),
    'another set of bundles: stale',
  )

  // Two builds at once (two launchers): each writes whole files, and leaves nothing half-written.
  writeFileSync(join(root, 'tsconfig.json'), '{}')
  await Promise.all([bundleServices(bundles, root), bundleServices(bundles, root)])
  t.equal(run(), 'bonjour\n', 'the bundle works')
  t.same(
    readdirSync(join(root, 'dist')).filter((name) => name.endsWith('.partial')),
    [],
    'no partial file left',
  )
  const inputs = record().inputs
  t.ok(
    ['src/server.ts', 'src/greeting.ts', 'package.json', 'tsconfig.json'].every((input) => inputs.includes(input)),
    `what it was made from is recorded: ${inputs.join(', ')}`,
  )
})

/** CPU time (user + system, ms) `entry` takes from its start until it is ready, on a port of its own. */
async function startCpu(entry: string): Promise<number> {
  const port = await freePort()
  const child = spawnGroup(process.execPath, [join(ROOT, entry)], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  })
  try {
    await waitUntilReady(`http://127.0.0.1:${port}/readyz`, { timeoutMs: Number.POSITIVE_INFINITY, intervalMs: 20 })
    // Fields 14 and 15 of /proc/PID/stat: user and system time, in clock ticks of 10 ms.
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    return (Number(fields[11]) + Number(fields[12])) * 10
  } finally {
    await stopGroup(child, 'SIGKILL')
  }
}

t.test(
  'a service starts on less CPU from its bundle than from the compiled tree',
  { skip: !existsSync('/proc/self/stat') },
  async (t) => {
    // CPU time rather than wall time: a busy machine stretches the second, hardly the first.
    // Alternated, so that both see the same machine; medians of five.
    const bundled: number[] = []
    const compiled: number[] = []
    for (let round = 0; round < 5; round++) {
      bundled.push(await startCpu('movies/dist/server.bundle.js'))
      compiled.push(await startCpu('movies/dist/server.js'))
    }
    const median = (values: number[]) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)] as number
    t.comment(`movies to ready: ${median(bundled)} ms of CPU from its bundle, ${median(compiled)} ms from tsc's output`)
    t.ok(median(bundled) < 0.75 * median(compiled), 'at least a quarter less')
  },
)
