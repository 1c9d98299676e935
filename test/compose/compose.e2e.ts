// The Docker Compose deployment end to end: `npm run test:compose` (needs Docker with the Compose
// plugin). Named *.e2e.ts so that `npm test` never
// picks it up: it builds images and takes the fixed ports 5000–5004 and 8080.
//
// Under its own project name: builds and starts everything with `docker compose up -d --build
// --wait`, checks the containers' hardening, the databases' isolation, every read call of API.md
// on each service's port, through the gateway and through the UI's /api/, the UI's pages, the
// gateway's metrics on their own port only, a stopped movies service and its return, signing in
// (demo credentials, on in Compose) and booking with a bearer token through the gateway and with
// the session cookie through the UI's /api/, writes that survive `docker compose kill`, and a
// graceful `docker compose stop`. `docker compose down -v` runs at the end, also after a failure.
import { spawnSync } from 'node:child_process'
import { SERVICE_NAMES, SERVICES as TOPOLOGY, localUrl as url } from '@cinema/kit/topology'
import t from 'tap'
import { bearer, DEMO_ADMIN, DEMO_PASSWORD, signIn } from '../helpers/auth.js'
import { type Container, composeProject, docker, json, poll, request, sleep } from '../helpers/compose.js'
import { portIsFree } from '../helpers/ports.js'
import { READ_CALLS } from '../helpers/reference.js'

const PROJECT = process.env.CINEMA_COMPOSE_PROJECT ?? 'cinema-compose-test'
// Compose publishes every service on its default port on 127.0.0.1 (url), and the gateway's operations
// port (/metrics only) on 127.0.0.1 too (METRICS_BIND_ADDRESS).
const GATEWAY_METRICS = `http://127.0.0.1:${TOPOLOGY.gateway.metricsPort}`
const SERVICES = ['postgres', 'users', 'movies', 'showtimes', 'bookings', 'gateway', 'ui'] as const
const NODE_SERVICES = ['users', 'movies', 'showtimes', 'bookings', 'gateway'] as const

const DINOSAUR = '720d006c-3a57-4b6a-b18f-9b713b073f3c'
const SPECTRE = '39ab85e5-5e8e-4dc5-afea-65dc368bd7ab'
const JSON_HEADERS = { 'content-type': 'application/json' }
// What the web app sends with every call (ui/src/api.ts); the gateway wants it on cookie-borne changes.
const FROM_THE_UI = { 'x-requested-with': 'cinema' }

const { compose, composeOk, containers, teardown, leftovers } = composeProject(PROJECT)

t.teardown(async () => {
  await teardown()
  const left = leftovers().containers
  if (left) throw new Error(`containers of ${PROJECT} left after docker compose down: ${left}`)
})

let up = false

await t.test('docker compose up --build --wait: every container builds, starts and turns healthy', async (t) => {
  const version = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' })
  if (version.status !== 0) {
    throw new Error(`docker compose is not available (install Docker with its Compose plugin): ${version.stderr}`)
  }
  // What an earlier run of this test left behind would hold the ports.
  await compose(['down', '--volumes', '--remove-orphans', '--timeout', '5'], 180_000)

  // The ports are fixed (those of the original system), so something else holding one is waited
  // for a while, then named.
  const waitUntil = Date.now() + Number(process.env.CINEMA_COMPOSE_PORT_WAIT_MS ?? 30_000)
  let taken: string[] = []
  for (;;) {
    const free = await Promise.all(
      [
        ...SERVICE_NAMES.map((name) => [name, TOPOLOGY[name].port] as const),
        ['gateway metrics', TOPOLOGY.gateway.metricsPort] as const,
      ].map(async ([name, port]) => [name, port, await portIsFree(port)] as const),
    )
    taken = free.filter(([, , isFree]) => !isFree).map(([name, port]) => `${port} (${name})`)
    if (taken.length === 0 || Date.now() > waitUntil) break
    await sleep(1_000)
  }
  if (taken.length > 0) {
    const holders = docker(['ps', '--format', '{{.Names}} ({{.Ports}})']).trim()
    throw new Error(
      `ports already in use on 127.0.0.1: ${taken.join(', ')}. The Compose test needs them free: stop what holds ` +
        `them (\`npm run stop\`, or \`docker compose down\` for a Compose run).${holders ? `\nrunning containers:\n${holders}` : ''}`,
    )
  }
  t.pass('ports 5000–5004, 8080 and 9464 are free')

  const started = Date.now()
  await composeOk(['up', '--detach', '--build', '--wait'], 20 * 60_000)
  t.comment(`built and healthy in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  const all = await containers()
  for (const service of SERVICES) {
    const container = all.find((candidate) => candidate.Service === service)
    t.match(container, { State: 'running', Health: 'healthy' }, `${service} running and healthy`)
  }
  up = true
})

// The rest needs the running system; tap runs the tests in order, each after the one before.
const skip = !up && 'the system did not come up'

t.test('every container is hardened as compose.yaml says', { skip }, async (t) => {
  for (const service of SERVICES) {
    const [container] = JSON.parse(docker(['inspect', `${PROJECT}-${service}-1`]))
    const { Config: config, HostConfig: host, NetworkSettings: network } = container
    t.ok(config.User && !/^(root|0)(:|$)/.test(config.User), `${service} runs as ${config.User}, not root`)
    t.equal(host.ReadonlyRootfs, true, `${service}: read-only root file system`)
    t.same(host.CapDrop, ['ALL'], `${service}: every capability dropped`)
    t.notOk(host.CapAdd?.length, `${service}: none added back`)
    t.ok(host.SecurityOpt?.includes('no-new-privileges:true'), `${service}: no-new-privileges`)
    t.ok(host.Memory > 0, `${service}: memory limit ${host.Memory / 2 ** 20} MiB`)
    t.equal(host.RestartPolicy?.Name, 'unless-stopped', `${service}: restart unless-stopped`)
    t.ok(config.Healthcheck?.Test?.length, `${service}: healthcheck ${config.Healthcheck?.Test?.slice(1).join(' ')}`)
    const published = Object.values(network.Ports ?? {})
      .flat()
      .filter(Boolean) as { HostIp: string; HostPort: string }[]
    if (service === 'postgres') t.same(published, [], 'postgres is not published')
    else
      t.ok(
        published.length > 0 && published.every((binding) => binding.HostIp === '127.0.0.1'),
        `${service}: published on 127.0.0.1 only`,
      )
  }
  for (const service of NODE_SERVICES) {
    const [container] = JSON.parse(docker(['inspect', `${PROJECT}-${service}-1`]))
    const env: string[] = container.Config.Env
    const graceMs = Number(env.find((line) => line.startsWith('SHUTDOWN_GRACE_MS='))?.split('=')[1])
    t.ok(
      container.Config.StopTimeout * 1000 > graceMs,
      `${service}: Docker waits ${container.Config.StopTimeout} s, longer than its own ${graceMs} ms grace`,
    )
  }
})

t.test('the UI listens on an unprivileged port, with no sysctl', { skip }, async (t) => {
  const [container] = JSON.parse(docker(['inspect', `${PROJECT}-ui-1`]))
  t.notOk(Object.keys(container.HostConfig.Sysctls ?? {}).length, 'no sysctl')
  t.match(
    container.NetworkSettings.Ports['8080/tcp'],
    [{ HostIp: '127.0.0.1', HostPort: '5004' }],
    '8080 inside is 5004',
  )
})

t.test('the service images leave out pino-pretty: one run with a terminal logs JSON', { skip }, async (t) => {
  const imageOf = (service: string) => JSON.parse(docker(['inspect', `${PROJECT}-${service}-1`]))[0].Config.Image
  const probe = "import('pino-pretty').then(() => console.log('present'), () => console.log('absent'))"
  for (const service of NODE_SERVICES) {
    const found = docker(['run', '--rm', imageOf(service), 'node', '--input-type=module', '--eval', probe]).trim()
    t.equal(found, 'absent', `${service}: no pino-pretty`)
  }
  // -t: stdout is a terminal, where a service would otherwise ask for pino-pretty and not start.
  const container = docker(['run', '-d', '-t', imageOf('movies')]).trim()
  t.teardown(() => {
    docker(['rm', '-f', container])
  })
  let logs = ''
  for (const deadline = Date.now() + 30_000; Date.now() < deadline && !logs.includes('Server listening'); ) {
    await sleep(500)
    logs = docker(['logs', container])
  }
  t.match(logs, /^\{.*"msg":"Server listening at/m, 'started, logging JSON lines')
})

t.test('postgres: one database per owning service, each role reaches only its own', { skip }, async (t) => {
  const connect = async (role: string, password: string, database: string) =>
    compose([
      'exec',
      '-T',
      '-e',
      `PGPASSWORD=${password}`,
      'postgres',
      'psql',
      '--no-psqlrc',
      '-h',
      '127.0.0.1',
      '-U',
      role,
      '-d',
      database,
      '-Atc',
      'SELECT current_user',
    ])
  // The passwords compose.yaml gave the database (defaults, or .env's).
  const [postgres] = JSON.parse(docker(['inspect', `${PROJECT}-postgres-1`]))
  const env = new Map(
    (postgres.Config.Env as string[]).map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
  )
  const roles = { users: env.get('USERS_DB_PASSWORD') ?? '', bookings: env.get('BOOKINGS_DB_PASSWORD') ?? '' }
  for (const [role, password] of Object.entries(roles)) {
    const own = await connect(role, password, role)
    t.equal(own.code, 0, `${role} connects to its database: ${own.output.trim()}`)
    for (const other of ['users', 'bookings', 'postgres', 'template1'].filter((name) => name !== role)) {
      const refused = await connect(role, password, other)
      t.match(refused.output, /permission denied|does not have CONNECT privilege/, `${role} cannot connect to ${other}`)
    }
  }
})

t.test('every read call of docs/API.md: straight, through the gateway, through the UI /api/', { skip }, async (t) => {
  for (const call of READ_CALLS) {
    const routes: [string, string][] = [['straight', `${url(call.service)}${call.path}`]]
    // `/` of the gateway and of /api/ is the gateway's own index.
    if (call.path !== '/') {
      routes.push(['through the gateway', `${url('gateway')}${call.path}`])
      routes.push(['through the UI /api/', `${url('ui')}/api${call.path}`])
    }
    for (const [route, target] of routes) {
      const answer = await request(target)
      t.equal(answer.status, call.status, `${call.service} ${call.path} ${route}: status`)
      t.same(json(answer), call.body, `${call.service} ${call.path} ${route}: body`)
    }
  }
  const status = await request(`${url('gateway')}/status`)
  t.equal(status.status, 200, 'gateway /status')
  t.match(json(status), {
    services: NODE_SERVICES.filter((name) => name !== 'gateway').map((name) => ({ name, status: 'up' })),
  })
})

t.test('the UI on 5004: its pages, its files, its /api/ proxy', { skip }, async (t) => {
  const index = await request(`${url('ui')}/`)
  for (const page of ['/', '/movies', '/showtimes', '/users', '/bookings/dwight_schrute', '/sign-in', '/sign-up']) {
    const answer = await request(`${url('ui')}${page}`)
    t.equal(answer.status, 200, `page ${page}`)
    t.match(answer.headers.get('content-type'), /^text\/html/, `page ${page} is HTML`)
    t.equal(answer.text, index.text, `page ${page} is the web app`)
    t.match(answer.headers.get('content-security-policy'), /default-src 'self'/, `page ${page} has a CSP`)
  }
  const assets = [...index.text.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((match) => match[1] as string)
  t.ok(assets.length > 0, `index.html names its files: ${assets.join(' ')}`)
  for (const asset of assets) {
    const answer = await request(`${url('ui')}${asset}`)
    t.equal(answer.status, 200, `${asset} served`)
    t.match(answer.headers.get('cache-control'), /immutable/, `${asset} cached for good`)
  }
  t.equal((await request(`${url('ui')}/assets/missing.js`)).status, 404, 'a missing file is a 404, not the app')

  const movies = await request(`${url('ui')}/api/movies`)
  t.equal(movies.status, 200, '/api/movies')
  t.same(json(movies), json(await request(`${url('movies')}/movies`)), '/api/movies is the catalog')
  t.match(
    json(await request(`${url('ui')}/api/status`)),
    { services: [{ name: 'users', status: 'up' }] },
    '/api/status',
  )
  const query = await request(`${url('ui')}/api/users/chris_rivers/suggested?limit=1`)
  t.equal((json(query) as unknown[]).length, 1, '/api/ keeps the query string')
})

t.test('the gateway’s metrics: on their own port, not on 8080, not through the UI', { skip }, async (t) => {
  await request(`${url('gateway')}/movies`)
  const scraped = await request(`${GATEWAY_METRICS}/metrics`)
  t.equal(scraped.status, 200, `${GATEWAY_METRICS}/metrics`)
  t.match(scraped.headers.get('content-type'), /^text\/plain/)
  t.match(scraped.text, /http_request_duration_seconds_count\{method="GET",route="\/movies"/)
  t.match(scraped.text, /peer_request_duration_seconds_count\{peer="movies"/)
  t.equal((await request(`${url('gateway')}/metrics`)).status, 404, 'not on the gateway’s public port')
  t.equal((await request(`${url('ui')}/api/metrics`)).status, 404, 'not through the UI’s /api/')
  t.equal((await request(`${url('users')}/metrics`)).status, 200, 'the services keep theirs on their own port')
  const [gateway] = JSON.parse(docker(['inspect', `${PROJECT}-gateway-1`]))
  t.same(
    gateway.NetworkSettings.Ports['9464/tcp'].map((binding: { HostIp: string }) => binding.HostIp),
    ['127.0.0.1'],
    'published on 127.0.0.1 only',
  )
})

t.test(
  'docker compose stop movies: users and the gateway answer 503 naming movies; start heals',
  { skip },
  async (t) => {
    const suggested = `${url('users')}/users/dwight_schrute/suggested`
    t.equal((await request(suggested)).status, 200, 'suggestions before')

    await composeOk(['stop', 'movies'])
    const stoppedAt = Date.now()
    // The users service reuses the catalog for 1 s (CATALOG_CACHE_TTL_MS).
    const straight = await poll(suggested, (answer) => answer.status !== 200, 5_000)
    const elapsed = Date.now() - stoppedAt
    t.equal(straight.status, 503, 'users: 503')
    t.same(json(straight), {
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'movies service is unavailable',
      code: 'PEER_UNAVAILABLE',
      service: 'movies',
    })
    t.ok(elapsed < 3_000, `users answered 503 naming movies ${elapsed} ms after the stop`)

    const gateway = await request(`${url('gateway')}/movies`)
    t.ok([502, 503].includes(gateway.status), `gateway /movies: ${gateway.status}`)
    t.match(json(gateway), { message: /movies/ }, 'the gateway names movies')
    const proxied = await request(`${url('ui')}/api/movies`)
    t.match(json(proxied), { message: /movies/ }, 'so does the UI /api/')
    t.equal((await request(`${url('users')}/users/dwight_schrute`)).status, 200, 'what needs no movies still works')
    t.equal((await request(`${url('gateway')}/showtimes`)).status, 200, 'the other services still answer')

    await composeOk(['start', 'movies'])
    const back = await poll(suggested, (answer) => answer.status === 200, 30_000)
    t.equal(back.status, 200, 'users answers again without a restart')
    t.equal(
      (await poll(`${url('gateway')}/movies`, (answer) => answer.status === 200, 30_000)).status,
      200,
      'gateway too',
    )
    const deadline = Date.now() + 30_000
    let movies: Container | undefined
    do {
      movies = (await containers()).find((container) => container.Service === 'movies')
      if (movies?.Health !== 'healthy') await sleep(500)
    } while (movies?.Health !== 'healthy' && Date.now() < deadline)
    t.match(movies, { State: 'running', Health: 'healthy' }, 'movies healthy again')
  },
)

t.test('sign in and book with a bearer token through the gateway', { skip }, async (t) => {
  const gateway = url('gateway')
  const keys = json(await request(`${gateway}/.well-known/jwks.json`)) as { keys: { kid: string; alg: string }[] }
  t.match(keys.keys, [{ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' }], 'the users service publishes its key')
  t.same(json(await request(`${url('users')}/.well-known/jwks.json`)), keys, 'the same key straight at users')

  const wrong = await request(`${gateway}/auth/token`, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify({ username: 'pam_beesly', password: 'not-her-password' }),
  })
  t.equal(wrong.status, 401, 'a wrong password: 401')
  t.same(json(wrong), {
    statusCode: 401,
    error: 'Unauthorized',
    message: 'wrong username or password',
    code: 'BAD_CREDENTIALS',
  })
  const signedIn = await request(`${gateway}/auth/token`, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify({ username: 'pam_beesly', password: DEMO_PASSWORD }),
  })
  t.equal(signedIn.status, 200, 'the demo password signs a seeded user in')
  const answer = json(signedIn) as { access_token: string; token_type: string; expires_in: number }
  t.match(answer, { token_type: 'Bearer', expires_in: 3600, access_token: /^[\w-]+\.[\w-]+\.[\w-]+$/ })
  const header = JSON.parse(Buffer.from(answer.access_token.split('.')[0] ?? '', 'base64url').toString())
  t.match(header, { alg: 'EdDSA', kid: keys.keys[0]?.kid }, 'signed with the published key')
  const pam = answer.access_token

  const booking = `${gateway}/bookings/pam_beesly/20151130/${DINOSAUR}`
  const anonymous = await request(booking, { method: 'PUT' })
  t.equal(anonymous.status, 401, 'no token: 401')
  t.match(anonymous.headers.get('www-authenticate'), /^Bearer/, 'with WWW-Authenticate: Bearer')
  t.match(json(anonymous), { code: 'UNAUTHENTICATED' })
  const forged = await request(booking, { method: 'PUT', headers: bearer(`${pam.slice(0, -4)}AAAA`) })
  t.equal(forged.status, 401, 'a tampered token: 401')
  t.match(forged.headers.get('www-authenticate'), /error="invalid_token"/)
  const dwight = await signIn(gateway, 'dwight_schrute')
  const someoneElse = await request(booking, { method: 'PUT', headers: bearer(dwight) })
  t.equal(someoneElse.status, 403, "another customer's token: 403")
  t.match(json(someoneElse), { code: 'FORBIDDEN' })

  const own = await request(booking, { method: 'PUT', headers: bearer(pam) })
  t.equal(own.status, 201, 'her own token: 201')
  t.same(json(own), { username: 'pam_beesly', date: '20151130', movie_id: DINOSAUR })
  t.same(json(await request(`${gateway}/bookings/pam_beesly`)), { '20151130': [DINOSAUR] }, 'reads stay public')
  const straight = await request(`${url('bookings')}/bookings/pam_beesly/20151130/${DINOSAUR}`, { method: 'PUT' })
  t.equal(straight.status, 401, 'the bookings service itself wants a token too')
  t.equal((await request(booking, { method: 'DELETE', headers: bearer(pam) })).status, 204, 'she cancels it: 204')

  const admin = await signIn(gateway, DEMO_ADMIN)
  t.equal((await request(booking, { method: 'PUT', headers: bearer(admin) })).status, 201, 'an admin books for her')
  t.equal((await request(booking, { method: 'DELETE', headers: bearer(admin) })).status, 204, 'and cancels')

  // The bookings service logged each write once, with the actor, whose booking and the request id.
  const logs = (await composeOk(['logs', '--no-color', 'bookings'])).split('\n')
  const audit = logs.filter((line) => line.includes('"audit":') && line.includes('pam_beesly'))
  t.equal(audit.length, 4, "four audit lines for pam_beesly's bookings", { lines: audit })
  const ownLine = audit.find((line) => line.includes(own.headers.get('x-request-id') ?? '-'))
  t.match(ownLine, /"actor":"pam_beesly".*"subject":"pam_beesly"/, 'her booking: actor, subject, request id')
  t.ok(
    audit.some((line) => line.includes(`"actor":"${DEMO_ADMIN}"`)),
    'the admin is named as the actor of theirs',
  )
  const all = await composeOk(['logs', '--no-color'])
  t.notOk(all.includes(DEMO_PASSWORD), 'no password in any log')
  t.notOk(all.includes(pam.split('.')[2] ?? pam), 'no token in any log')
})

t.test("the UI's /api/: a session cookie, changes only with X-Requested-With", { skip }, async (t) => {
  const api = `${url('ui')}/api`
  const credentials = JSON.stringify({ username: 'pam_beesly', password: DEMO_PASSWORD })
  const noHeader = await request(`${api}/auth/session`, { method: 'POST', headers: JSON_HEADERS, body: credentials })
  t.equal(noHeader.status, 403, 'signing in without X-Requested-With: 403')
  t.match(json(noHeader), { code: 'CSRF_REJECTED' })

  const session = await request(`${api}/auth/session`, {
    method: 'POST',
    headers: { ...JSON_HEADERS, ...FROM_THE_UI },
    body: credentials,
  })
  t.equal(session.status, 200, 'POST /api/auth/session: 200')
  t.match(json(session), { username: 'pam_beesly', role: 'customer', expires_at: Number })
  t.notOk(session.text.includes('access_token'), 'no token in the body')
  // The session cookie, and ones that clear copies planted under other paths (cookie tossing).
  const setCookie = session.headers.getSetCookie()
  const kept = setCookie.filter((line) => !line.startsWith('cinema_session=;'))
  t.equal(kept.length, 1, 'one session cookie')
  t.ok(
    setCookie.filter((line) => !kept.includes(line)).every((line) => line.includes('Max-Age=0')),
    'the others clear copies',
  )
  const attributes = (kept[0] ?? '').split(';').map((part) => part.trim())
  t.match(attributes[0], /^cinema_session=[\w-]+\.[\w-]+\.[\w-]+$/, 'the session cookie')
  for (const attribute of ['HttpOnly', 'SameSite=Strict', 'Path=/']) t.ok(attributes.includes(attribute), attribute)
  t.notOk(attributes.includes('Secure'), 'not Secure over plain HTTP')
  const cookie = { cookie: attributes[0] ?? '' }

  const who = await request(`${api}/auth/session`, { headers: cookie })
  t.equal(who.status, 200, 'GET /api/auth/session with the cookie: 200')
  t.match(json(who), { username: 'pam_beesly', role: 'customer' })
  t.equal((await request(`${api}/auth/session`)).status, 401, 'without it: 401')

  const booking = `${api}/bookings/pam_beesly/20151130/${SPECTRE}`
  const forged = await request(booking, { method: 'PUT', headers: cookie })
  t.equal(forged.status, 403, 'PUT with the cookie but without X-Requested-With: 403')
  t.match(json(forged), { code: 'CSRF_REJECTED' })
  const crossSite = await request(booking, {
    method: 'PUT',
    headers: { ...cookie, ...FROM_THE_UI, 'sec-fetch-site': 'cross-site' },
  })
  t.equal(crossSite.status, 403, 'from another site (Sec-Fetch-Site): 403')
  const anonymous = await request(booking, { method: 'PUT', headers: FROM_THE_UI })
  t.equal(anonymous.status, 401, 'without the cookie: 401')
  t.match(json(anonymous), { code: 'UNAUTHENTICATED' })

  const put = await request(booking, { method: 'PUT', headers: { ...cookie, ...FROM_THE_UI } })
  t.equal(put.status, 201, 'PUT /api/bookings/… with the cookie and X-Requested-With: 201')
  t.same(json(put), { username: 'pam_beesly', date: '20151130', movie_id: SPECTRE })
  t.same(json(await request(`${api}/bookings/pam_beesly`)), { '20151130': [SPECTRE] }, 'booked')
  const other = await request(`${api}/bookings/dwight_schrute/20151130/${SPECTRE}`, {
    method: 'PUT',
    headers: { ...cookie, ...FROM_THE_UI },
  })
  t.equal(other.status, 403, "booking for someone else with one's own session: 403")
  const cancel = await request(booking, { method: 'DELETE', headers: { ...cookie, ...FROM_THE_UI } })
  t.equal(cancel.status, 204, 'DELETE with the cookie: 204')

  const signOut = await request(`${api}/auth/session`, { method: 'DELETE', headers: { ...cookie, ...FROM_THE_UI } })
  t.equal(signOut.status, 204, 'DELETE /api/auth/session: 204')
  t.match(signOut.headers.getSetCookie()[0], /^cinema_session=;.*Max-Age=0/, 'the cookie is cleared')
})

t.test('writes survive docker compose kill and up --wait', { skip }, async (t) => {
  const gateway = url('gateway')
  const jim = await signIn(gateway, 'jim_halpert')
  const booking = `${gateway}/bookings/jim_halpert/20151130/${DINOSAUR}`
  const put = await request(booking, { method: 'PUT', headers: bearer(jim) })
  t.equal(put.status, 201, `PUT ${booking}: 201`)
  const password = 'dora-durable-password'
  const created = await request(`${gateway}/users`, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify({ id: 'compose_durable', name: 'Dora Durable', password }),
  })
  t.equal(created.status, 201, 'POST /users: 201')
  t.notOk(created.text.includes('password'), 'the answer carries no password')
  const dora = await signIn(gateway, 'compose_durable', password)
  const second = `${gateway}/bookings/compose_durable/20151130/${SPECTRE}`
  t.equal((await request(second, { method: 'PUT', headers: bearer(dora) })).status, 201, `PUT ${second}: 201`)

  await composeOk(['kill'])
  const killed = await containers()
  t.ok(
    killed.every((container) => container.State !== 'running'),
    `every container killed: ${killed.map((c) => `${c.Service} ${c.State}`).join(', ')}`,
  )

  const started = Date.now()
  await composeOk(['up', '--detach', '--wait'], 5 * 60_000)
  t.comment(`healthy again ${((Date.now() - started) / 1000).toFixed(1)} s after docker compose up -d --wait`)

  t.same(json(await request(`${gateway}/bookings/jim_halpert`)), { '20151130': [DINOSAUR] }, 'the booking is there')
  t.same(
    json(await request(`${url('users')}/users/jim_halpert/bookings`)),
    { '20151130': [{ title: 'The Good Dinosaur', rating: 7.4, uri: `/movies/${DINOSAUR}` }] },
    'and in the user’s booked movies',
  )
  t.match(
    json(await request(`${gateway}/users/compose_durable`)),
    { id: 'compose_durable', name: 'Dora Durable' },
    'the user is there',
  )
  t.same(
    json(await request(`${url('bookings')}/bookings/compose_durable`)),
    { '20151130': [SPECTRE] },
    'with its booking',
  )
  // The signing key is in the users database: tokens from before the restart are still good.
  t.equal(
    (await request(booking, { method: 'PUT', headers: bearer(jim) })).status,
    200,
    'booking again with the token from before: 200, already there',
  )
  t.equal(
    (await signIn(gateway, 'compose_durable', password)).split('.').length,
    3,
    'the new user signs in with her password after the restart',
  )
  t.equal(
    Object.keys(json(await request(`${gateway}/users`)) as object).length,
    8,
    'the seed was not applied again: 7 original users + 1',
  )
  const original = READ_CALLS.find((call) => call.service === 'bookings' && call.path === '/bookings/dwight_schrute')
  t.same(json(await request(`${gateway}/bookings/dwight_schrute`)), original?.body, 'seeded bookings unchanged')
})

t.test('docker compose stop: every container stops gracefully within its grace period', { skip }, async (t) => {
  const started = Date.now()
  await composeOk(['stop'], 120_000)
  const seconds = (Date.now() - started) / 1000
  t.ok(seconds < 10, `stopped in ${seconds.toFixed(1)} s, nobody waited for SIGKILL`)
  for (const container of await containers()) {
    t.equal(container.ExitCode, 0, `${container.Service} exited 0 (${container.State})`)
  }
})

t.test('docker compose down -v removes everything', async (t) => {
  await teardown()
  const left = leftovers()
  t.equal(left.containers, '', 'no container left')
  t.equal(left.volumes, '', 'no volume left')
})
