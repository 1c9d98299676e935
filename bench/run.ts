// `npm run bench`: load-tests Cinema as `npm start` runs it, one case after another, and writes
// a Markdown table and bench/results/<date>.json. `--no-start` measures a system already running
// on the default ports instead (its data gains the bench's users and bookings).
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { waitUntilReady } from '../scripts/ready.mjs'
import { ROOT, systemServices } from '../scripts/services.mjs'
import { DEMO_ADMIN, signIn } from '../test/helpers/auth.js'
import { freePort } from '../test/helpers/ports.js'
import { type RunningLauncher, startLauncher } from '../test/helpers/system.js'

const CONNECTIONS = 50
// Sign-ins and sign-ups at once: two hashes keep two cores busy; twice that keeps the next ones
// queued, not waiting on the network.
const SIGN_IN_CONNECTIONS = 4
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10)
const WARMUP_S = 3
const CREED = '267eedb8-0f5d-42d5-8f43-72426b9fb3e6'
const RSS_LIMIT_MB = 120

const args = new Set(process.argv.slice(2))
const services = systemServices()
const urlOf = (name: string) => services.find((service) => service.name === name)?.url as string
const GATEWAY = urlOf('gateway')
const MOVIES = urlOf('movies')

interface CaseResult {
  name: string
  url: string
  requestsPerSecond: number
  latencyMs: { p50: number; p99: number; max: number }
  errors: number
  non2xx: number
  requests: number
  peakRssMb: Record<string, number>
  note?: string
}

/** Processes whose memory is watched, by name. */
const watched = new Map<string, number>()

function rssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1]
    return kb ? Math.round(Number(kb) / 1024) : undefined
  } catch {
    return undefined
  }
}

/** The pids of a process's children, from /proc (Linux). */
function childrenOf(parent: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1] === String(parent)
      } catch {
        return false
      }
    })
    .map(Number)
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
  } catch {
    return ''
  }
}

/** Finds the system's processes by their entry points (works for --no-start too, on Linux). */
function watchSystemProcesses(): void {
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const command = commandOf(Number(entry))
    const service = services.find((candidate) => command.includes(candidate.entry))
    if (service) watched.set(service.name, Number(entry))
    if (command.includes('scripts/start.mjs')) watched.set('launcher', Number(entry))
  }
}

async function measure(
  name: string,
  options: autocannon.Options,
  note?: string,
  connections = CONNECTIONS,
): Promise<CaseResult> {
  process.stdout.write(`${name}: warming up ${WARMUP_S} s, measuring ${DURATION_S} s\n`)
  await autocannon({ ...options, connections, duration: WARMUP_S })
  const peaks: Record<string, number> = {}
  const sample = () => {
    for (const [process, pid] of watched) {
      const mb = rssMb(pid)
      if (mb !== undefined) peaks[process] = Math.max(peaks[process] ?? 0, mb)
    }
  }
  const sampler = setInterval(sample, 200)
  sample()
  const result = await autocannon({ ...options, connections, duration: DURATION_S })
  clearInterval(sampler)
  sample()
  return {
    name,
    url: String(options.url),
    requestsPerSecond: Math.round(result.requests.average),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    requests: result.requests.total,
    peakRssMb: peaks,
    ...(note ? { note } : {}),
  }
}

const READY_TIMEOUT_MS = 60_000
const started: ChildProcess[] = []
const temporary: string[] = []
let system: RunningLauncher | undefined
async function stopAll(): Promise<void> {
  for (const child of started.reverse()) {
    if (child.exitCode !== null) continue
    child.kill('SIGTERM')
    await once(child, 'exit')
  }
  await system?.stop()
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true })
}

/** The system as `npm start` runs it (launcher and defaults included) on the original ports, on fresh databases. */
async function startSystem(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cinema-bench-'))
  temporary.push(dataDir)
  system = await startLauncher({ portOffset: 0, dataDir })
}

/** A reference server from bench/ (bare Fastify, plain proxy) on a free port; its base URL. */
async function referenceServer(file: string, name: string): Promise<string> {
  const port = await freePort()
  const child = spawn(process.execPath, [join(ROOT, 'bench', file)], {
    env: { ...process.env, PORT: String(port), MOVIES_URL: MOVIES },
    stdio: 'inherit',
  })
  started.push(child)
  const url = `http://127.0.0.1:${port}`
  await waitUntilReady(`${url}/movies/${CREED}`, { timeoutMs: READY_TIMEOUT_MS })
  if (child.pid) watched.set(name, child.pid)
  return url
}

/** nginx as a reverse proxy in front of the movies service: one worker, keep-alive upstream, no access log. */
async function nginxProxy(): Promise<string | undefined> {
  const binary = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path))
  if (!binary) return undefined
  const dir = mkdtempSync(join(tmpdir(), 'cinema-bench-nginx-'))
  temporary.push(dir)
  const port = await freePort()
  const movies = new URL(MOVIES)
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream movies { server ${movies.host}; keepalive 128; }
  server {
    listen 127.0.0.1:${port};
    # As many requests per client connection as the Node servers allow (nginx closes after 1000).
    keepalive_requests 1000000;
    location / {
      proxy_pass http://movies;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
  )
  const child = spawn(binary, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'inherit' })
  started.push(child)
  const url = `http://127.0.0.1:${port}`
  await waitUntilReady(`${url}/movies/${CREED}`, { timeoutMs: READY_TIMEOUT_MS })
  for (const pid of [child.pid ?? 0, ...childrenOf(child.pid ?? 0)]) {
    watched.set(pid === child.pid ? 'nginx master' : 'nginx worker', pid)
  }
  return url
}

// Signing up hashes a password (~100 ms of CPU each): 1,000 users (14,000 distinct bookings) take
// about a minute to make, and are more than a 10 s run books.
const BENCH_USERS = 1_000

const passwordOf = (id: string) => `bench password ${id}`
/** The users made for the PUT case, who sign in in the sign-in case. */
let benchUsers: string[] | undefined

/** Users to book for: enough distinct (user, date, movie) triples that no PUT repeats one. */
async function createBenchUsers(count: number): Promise<string[]> {
  const prefix = `bench_${Date.now().toString(36)}`
  const ids = Array.from({ length: count }, (_, i) => `${prefix}_${i}`)
  // Each sign-up hashes a password: a few at a time, as the users service hashes them (more wait
  // in its queue or are refused with 503).
  for (let i = 0; i < ids.length; i += SIGN_IN_CONNECTIONS) {
    await Promise.all(
      ids.slice(i, i + SIGN_IN_CONNECTIONS).map(async (id) => {
        const response = await fetch(`${GATEWAY}/users`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id, name: `Bench ${id}`, password: passwordOf(id) }),
        })
        if (response.status !== 201) throw new Error(`creating ${id}: ${response.status}`)
      }),
    )
  }
  return ids
}

async function putBookings(): Promise<CaseResult> {
  const schedule = (await (await fetch(`${GATEWAY}/showtimes`)).json()) as Record<string, string[]>
  const shows = Object.entries(schedule).flatMap(([date, movieIds]) => movieIds.map((movieId) => ({ date, movieId })))
  const users = await createBenchUsers(BENCH_USERS)
  benchUsers = users
  // The administrator `npm start` names books for the bench's users with one token.
  const authorization = `Bearer ${await signIn(GATEWAY, DEMO_ADMIN)}`
  let next = 0
  const acknowledged = new Set<string>()
  const path = () => {
    const index = next++
    const user = users[Math.floor(index / shows.length) % users.length]
    const show = shows[index % shows.length]
    return `/bookings/${user}/${show?.date}/${show?.movieId}`
  }
  const requests: autocannon.Request[] = [
    {
      method: 'PUT',
      headers: { authorization },
      // The context is per connection: it carries each request's path to its response.
      setupRequest: (request, context) => {
        const bookingPath = path()
        ;(context as { path?: string }).path = bookingPath
        return { ...request, path: bookingPath }
      },
      onResponse: (status, _body, context) => {
        if (status === 201) acknowledged.add((context as { path: string }).path)
      },
    },
  ]
  const result = await measure('PUT /bookings/{u}/{date}/{movie} (distinct), gateway', {
    url: GATEWAY,
    requests,
  })
  // Every booking acknowledged with 201 must be stored: look each one up in what the service holds.
  const stored = (await (await fetch(`${GATEWAY}/bookings`)).json()) as Record<string, Record<string, string[]>>
  const missing = [...acknowledged].filter((bookingPath) => {
    const [, , user = '', date = '', movieId = ''] = bookingPath.split('/')
    return !stored[user]?.[date]?.includes(movieId)
  })
  const storedCount = users.reduce((sum, user) => sum + Object.values(stored[user] ?? {}).flat().length, 0)
  const capacity = users.length * shows.length
  return {
    ...result,
    note: `${acknowledged.size} bookings acknowledged with 201 (warm-up included): ${
      missing.length === 0 ? 'every one stored' : `${missing.length} MISSING`
    }; ${storedCount} stored in all (the rest were in flight when a run stopped)${
      next > capacity ? `; ran out of distinct bookings after ${capacity}` : ''
    }`,
  }
}

/**
 * Sign-in: a password checked (argon2id) and a token signed per request, through the gateway, each
 * request another user's (attempts on one username are counted: fifty at once would be refused).
 */
async function signIns(): Promise<CaseResult> {
  const users = benchUsers ?? (await createBenchUsers(200))
  let next = 0
  const requests: autocannon.Request[] = [
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      setupRequest: (request) => {
        const username = users[next++ % users.length] as string
        return { ...request, body: JSON.stringify({ username, password: passwordOf(username) }) }
      },
    },
  ]
  return measure(
    'POST /auth/token, gateway',
    { url: `${GATEWAY}/auth/token`, requests },
    `each request hashes a password on purpose (argon2id, ~20 ms of CPU): the rate is bounded by CPU; ${SIGN_IN_CONNECTIONS} connections, people signing in at once as a busy site sees them (50 would measure the users service's hashing queue, up to HASH_QUEUE_MAX_WAIT_MS)`,
    SIGN_IN_CONNECTIONS,
  )
}

function table(results: CaseResult[]): string {
  const processes = [...new Set(results.flatMap((result) => Object.keys(result.peakRssMb)))]
  const lines = [
    `| case | req/s | p50 ms | p99 ms | max ms | errors | non-2xx | peak RSS MB (${processes.join(', ')}) |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...results.map(
      (result) =>
        `| ${result.name} | ${result.requestsPerSecond} | ${result.latencyMs.p50} | ${result.latencyMs.p99} | ${result.latencyMs.max} | ${result.errors} | ${result.non2xx} | ${processes
          .map((name) => result.peakRssMb[name] ?? '–')
          .join(' / ')} |`,
    ),
  ]
  return lines.join('\n')
}

function targets(byName: Map<string, CaseResult>): string[] {
  const get = (name: string) => byName.get(name)
  const straight = get('GET /movies/{id}, movies straight')
  const bare = get('GET /movies/{id}, bare Fastify')
  const gateway = get('GET /movies/{id}, gateway')
  const nginx = get('GET /movies/{id}, nginx → movies')
  const check = (label: string, ok: boolean, detail: string) => `${ok ? '✔' : '✘'} ${label}: ${detail}`
  const ratio = (a?: CaseResult, b?: CaseResult) => (a && b ? a.requestsPerSecond / b.requestsPerSecond : Number.NaN)
  const lines: string[] = []
  if (straight && bare) {
    const r = ratio(straight, bare)
    lines.push(check('movies straight ≥ 0.75 × bare Fastify', r >= 0.75, r.toFixed(2)))
  }
  if (gateway && nginx) {
    const r = ratio(gateway, nginx)
    lines.push(check('gateway ≥ 0.7 × nginx', r >= 0.7, r.toFixed(2)))
  }
  if (gateway && straight) {
    const extra = gateway.latencyMs.p99 - straight.latencyMs.p99
    lines.push(check('gateway p99 ≤ straight p99 + 3 ms', extra <= 3, `+${extra} ms`))
  }
  for (const name of ['GET /users/{u}/bookings, gateway', 'GET /users/{u}/suggested, gateway']) {
    const result = get(name)
    if (!result || !gateway) continue
    const r = ratio(result, gateway)
    lines.push(check(`${name} ≥ 0.5 × gateway movies`, r >= 0.5, r.toFixed(2)))
    lines.push(check(`${name} p99 ≤ 20 ms`, result.latencyMs.p99 <= 20, `${result.latencyMs.p99} ms`))
  }
  const signIn = get('POST /auth/token, gateway')
  if (signIn) {
    lines.push(check('sign-in ≥ 40/s', signIn.requestsPerSecond >= 40, `${signIn.requestsPerSecond}/s`))
    lines.push(check('sign-in p99 ≤ 250 ms', signIn.latencyMs.p99 <= 250, `${signIn.latencyMs.p99} ms`))
  }
  const results = [...byName.values()]
  const failures = results.reduce((sum, result) => sum + result.errors + result.non2xx, 0)
  lines.push(check('no errors, no non-2xx', failures === 0, String(failures)))
  const peak = Math.max(...results.flatMap((result) => Object.values(result.peakRssMb)))
  const heavy = [
    ...new Set(
      results.flatMap((result) =>
        Object.entries(result.peakRssMb)
          .filter(([, mb]) => mb >= RSS_LIMIT_MB)
          .map(([name, mb]) => `${name} ${mb} MB`),
      ),
    ),
  ]
  lines.push(
    check(
      `every process < ${RSS_LIMIT_MB} MB RSS`,
      heavy.length === 0,
      heavy.length ? heavy.join(', ') : `max ${peak} MB`,
    ),
  )
  return lines
}

async function main(): Promise<void> {
  if (!args.has('--no-start')) await startSystem()
  else await Promise.all(services.map((service) => waitUntilReady(service.readyUrl, { timeoutMs: READY_TIMEOUT_MS })))
  watchSystemProcesses()

  const movie = `/movies/${CREED}`
  const cases: [string, () => Promise<CaseResult | undefined>][] = [
    [
      'GET /movies/{id}, movies straight',
      () => measure('GET /movies/{id}, movies straight', { url: `${MOVIES}${movie}` }),
    ],
    ['GET /movies/{id}, gateway', () => measure('GET /movies/{id}, gateway', { url: `${GATEWAY}${movie}` })],
    [
      'GET /movies/{id}, bare Fastify',
      async () =>
        measure('GET /movies/{id}, bare Fastify', {
          url: `${await referenceServer('bare-fastify.mjs', 'bare-fastify')}${movie}`,
        }),
    ],
    [
      'GET /movies/{id}, plain @fastify/http-proxy',
      async () =>
        measure('GET /movies/{id}, plain @fastify/http-proxy', {
          url: `${await referenceServer('plain-proxy.mjs', 'plain-proxy')}${movie}`,
        }),
    ],
    [
      'GET /movies/{id}, nginx → movies',
      async () => {
        const nginx = await nginxProxy()
        if (nginx) return measure('GET /movies/{id}, nginx → movies', { url: `${nginx}${movie}` })
        process.stdout.write('nginx → movies: skipped, nginx is not installed (apt-get install -y nginx)\n')
        return undefined
      },
    ],
    [
      'GET /users/{u}/bookings, gateway',
      () => measure('GET /users/{u}/bookings, gateway', { url: `${GATEWAY}/users/dwight_schrute/bookings` }),
    ],
    [
      'GET /users/{u}/suggested, gateway',
      () => measure('GET /users/{u}/suggested, gateway', { url: `${GATEWAY}/users/dwight_schrute/suggested` }),
    ],
    ['PUT /bookings/{u}/{date}/{movie} (distinct), gateway', putBookings],
    ['POST /auth/token, gateway', signIns],
  ]
  // `--only=nginx,gateway` runs the cases whose names contain one of the words (for profiling).
  const only = [...args]
    .find((arg) => arg.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',')
  const results: CaseResult[] = []
  for (const [name, run] of cases) {
    if (only && !only.some((word) => name.includes(word))) continue
    const result = await run()
    if (result) results.push(result)
  }

  const report = {
    date: new Date().toISOString(),
    machine: {
      node: process.version,
      cpus: (await import('node:os')).cpus().length,
      cpu: (await import('node:os')).cpus()[0]?.model,
    },
    settings: { connections: CONNECTIONS, durationSeconds: DURATION_S, warmupSeconds: WARMUP_S },
    results,
    targets: targets(new Map(results.map((result) => [result.name, result]))),
  }
  const markdown = `${table(results)}\n\n${report.targets.map((line) => `- ${line}`).join('\n')}\n${results
    .filter((result) => result.note)
    .map((result) => `\n${result.name}: ${result.note}`)
    .join('')}\n`
  process.stdout.write(`\n${markdown}`)
  const dir = join(ROOT, 'bench', 'results')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${report.date.slice(0, 19).replaceAll(':', '-')}.json`)
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`)
  process.stdout.write(`\nwritten to ${file.replace(`${ROOT}/`, '')}\n`)
}

try {
  await main()
} finally {
  await stopAll()
}
