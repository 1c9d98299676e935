// The whole system started as `npm start` starts it (scripts/start.mjs), on shifted ports: every
// read call of docs/API.md answers exactly as documented, straight at each service and through the gateway.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { systemServices } from '../../scripts/services.mjs'
import { READ_CALLS } from '../helpers/reference.js'
import { startLauncher } from '../helpers/system.js'

t.test('npm start: the original ports by default', async (t) => {
  const ports = Object.fromEntries(systemServices().map((service) => [service.name, service.port]))
  t.match(ports, { users: 5000, movies: 5001, showtimes: 5002, bookings: 5003, gateway: 8080 })
  t.equal(systemServices().find((service) => service.name === 'gateway')?.metricsPort, 9464, 'gateway metrics: 9464')
})

t.test('npm start: every read call of API.md, straight and through the gateway', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cinema-start-'))
  const started = Date.now()
  const launching = startLauncher({ dataDir, env: { ACCESS_LOG_LEVEL: 'info' } })
  t.teardown(async () => {
    await (await launching.catch(() => undefined))?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })
  const launcher = await launching
  const output = launcher.output
  t.comment(
    `up after ${Date.now() - started} ms (${/Cinema is up in ([\d.]+) s/.exec(output())?.[1]} s by the launcher)`,
  )
  const services = launcher.services
  const url = (name: string) => services.find((service) => service.name === name)?.url as string
  for (const name of ['users', 'movies', 'showtimes', 'bookings', 'gateway']) {
    t.match(output(), new RegExp(`${name} http://127\\.0\\.0\\.1:\\d+`), `${name} announced`)
  }

  for (const call of READ_CALLS) {
    for (const [route, base] of [
      ['straight', url(call.service)],
      ['through the gateway', url('gateway')],
    ] as const) {
      if (route === 'through the gateway' && call.path === '/') continue // the gateway's own index
      const response = await fetch(`${base}${call.path}`)
      t.equal(response.status, call.status, `${call.service} ${call.path} ${route}: status`)
      t.same(await response.json(), call.body, `${call.service} ${call.path} ${route}: body`)
    }
  }

  t.match(output(), /users\s+│ .*GET \/users\/dwight_schrute\/suggested → 200/, 'readable per-service log lines')

  // The gateway's metrics on their own loopback port, nowhere public: not on its port, not through the UI.
  const gatewayMetricsUrl = `http://127.0.0.1:${services.find((service) => service.name === 'gateway')?.metricsPort}`
  t.match(output(), `gateway metrics ${gatewayMetricsUrl}/metrics`, 'announced')
  const scraped = await fetch(`${gatewayMetricsUrl}/metrics`)
  t.equal(scraped.status, 200, 'gateway metrics on their own port')
  t.match(await scraped.text(), /http_request_duration_seconds_count\{method="GET",route="\/users\/\*"/)
  t.equal((await fetch(`${url('gateway')}/metrics`)).status, 404, 'not on the gateway’s port')
  t.equal((await fetch(`${url('ui')}/api/metrics`)).status, 404, 'not through the UI’s /api/')
  t.equal((await fetch(`${url('users')}/metrics`)).status, 200, 'the other services keep theirs on their port')

  t.equal(await launcher.stop('SIGINT'), 0, 'Ctrl-C stops everything cleanly')
  for (const service of services) {
    const refused = await fetch(service.readyUrl).then(
      () => false,
      () => true,
    )
    t.ok(refused, `${service.name} stopped`)
  }
})
