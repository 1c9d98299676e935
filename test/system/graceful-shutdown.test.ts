// SIGTERM on a real process: not ready any more, new connections refused, requests in flight
// finish, exit 0 within the grace period.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { Pool } from 'undici'
import { waitUntilReady } from '../../scripts/ready.mjs'
import { ROOT } from '../../scripts/services.mjs'
import { eventually } from '../helpers/eventually.js'
import { freePort } from '../helpers/ports.js'
import { uninstrumented } from '../helpers/processes.js'
import { json, stub } from '../helpers/servers.js'

const SLOW_MS = 1_000

/** A new TCP connection to `port`: 'accepted', or the error code that refused it. */
function connectionAttempt(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve('accepted')
    })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
  })
}

t.test('graceful shutdown of a service process', async (t) => {
  const slowMovies = await stub((_req, res) => {
    setTimeout(() => json(res, 200, { slow: true }), SLOW_MS)
  })
  t.teardown(() => slowMovies.close())
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const gateway = spawn(...uninstrumented(process.execPath, [join(ROOT, 'gateway/dist/server.js')]), {
    // A metrics port of its own too: the default (9464) may be taken by a system running beside it.
    env: {
      ...process.env,
      PORT: String(port),
      METRICS_PORT: String(await freePort()),
      MOVIES_URL: slowMovies.url,
      SHUTDOWN_GRACE_MS: '5000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let logs = ''
  gateway.stdout.on('data', (chunk) => {
    logs += chunk
  })
  const exited = once(gateway, 'exit')
  t.teardown(() => gateway.kill('SIGKILL'))
  await waitUntilReady(`${url}/readyz`)

  // One keep-alive connection with two pipelined requests: a slow one in flight when SIGTERM
  // arrives, then /readyz, which the server reads only after the slow one is answered.
  const connection = new Pool(url, { connections: 1, pipelining: 2 })
  t.teardown(() => connection.destroy())
  const inFlight = connection.request({ path: '/movies', method: 'GET' })
  const readiness = connection.request({ path: '/readyz', method: 'GET' })
  t.equal(
    await eventually(
      () => slowMovies.requests.length,
      (count) => count > 0,
    ),
    1,
    'the slow request reached movies, once',
  )
  const signalledAt = Date.now()
  gateway.kill('SIGTERM')

  // Refused while the slow request is still in flight, so by the process that is shutting down.
  let inFlightDone = false
  const inFlightSettled = inFlight.finally(() => {
    inFlightDone = true
  })
  let newConnection = 'accepted'
  while (newConnection === 'accepted' && !inFlightDone) {
    newConnection = await connectionAttempt(port)
    if (newConnection === 'accepted') await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.equal(newConnection, 'ECONNREFUSED', 'new connections are refused once shutdown begins')
  t.notOk(inFlightDone, 'while the request in flight was still being answered')

  const finished = await inFlightSettled
  t.equal(finished.statusCode, 200, 'the request in flight finished')
  t.same(await finished.body.json(), { slow: true })
  const ready = await readiness
  t.equal(ready.statusCode, 503, '/readyz answers 503 during shutdown')
  await ready.body.dump()

  const [code] = await exited
  const took = Date.now() - signalledAt
  t.equal(code, 0, 'exit 0')
  t.ok(took < 5_000, `stopped ${took} ms after SIGTERM, within the grace period`)
  t.match(logs, /shutting down: finishing requests in flight/)
  t.match(logs, /"msg":"stopped"/)
})
