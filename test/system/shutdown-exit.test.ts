// Every server exits within SHUTDOWN_GRACE_MS + 1 s of SIGTERM while its clients hold an idle
// keep-alive connection, a request whose body never comes and (gateway, ui) a request its peer
// never answers: at the end of the grace period what is still open is cut and the close ends, the
// database closed, exit 0 (1 when a peer's request still holds it, a moment later). On a machine
// so busy that timers run late, the lag this process measures meanwhile is allowed on top.

import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { IN_MEMORY } from '@cinema/kit'
import t from 'tap'
import { systemServices } from '../../scripts/services.mjs'
import { stub } from '../helpers/servers.js'
import { exitAfterSigterm, startServiceProcess } from '../helpers/service-process.js'
import { freeOffset } from '../helpers/system.js'

const GRACE_MS = 2_000
// What may pass after the grace period (Compose and Kubernetes wait as much before SIGKILL).
const EXIT_ALLOWANCE_MS = 1_000

// A request each proxy starts answering and cannot finish: its peer never answers.
const UNANSWERED: Record<string, string | undefined> = { gateway: '/movies', ui: '/api/movies' }

/** A connection to `port` that sends `text` and then stays open, reading whatever comes. */
async function openConnection(port: number, text: string): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  socket.on('error', () => {})
  socket.resume()
  socket.write(text)
  return socket
}

t.test('every server exits within the grace period + 1 s of SIGTERM, whatever its clients hold', async (t) => {
  // A peer that takes every request and never answers.
  const silentPeer = await stub(() => {})
  t.teardown(() => silentPeer.close())
  const services = systemServices({ portOffset: await freeOffset(), dataDir: IN_MEMORY })
  const env = (service: (typeof services)[number]) => {
    const peers = Object.keys(service.env).filter((key) => key.endsWith('_URL'))
    return { SHUTDOWN_GRACE_MS: String(GRACE_MS), ...Object.fromEntries(peers.map((key) => [key, silentPeer.url])) }
  }
  // Started together: one at a time takes minutes on a busy machine.
  const started = await Promise.all(services.map((service) => startServiceProcess(t, service, env(service))))

  for (const [index, service] of services.entries()) {
    const server = started[index]
    if (!server) continue
    await t.test(service.name, async (t) => {
      const sockets = [
        await openConnection(service.port, 'GET /livez HTTP/1.1\r\nHost: cinema\r\n\r\n'),
        await openConnection(
          service.port,
          'POST /auth/token HTTP/1.1\r\nHost: cinema\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n',
        ),
      ]
      if (service.metricsPort !== undefined) {
        sockets.push(await openConnection(service.metricsPort, 'GET /metrics HTTP/1.1\r\nHost: cinema\r\n\r\n'))
      }
      const unanswered = UNANSWERED[service.name]
      if (unanswered) {
        const before = silentPeer.requests.length
        sockets.push(await openConnection(service.port, `GET ${unanswered} HTTP/1.1\r\nHost: cinema\r\n\r\n`))
        while (silentPeer.requests.length === before) await new Promise((resolve) => setTimeout(resolve, 20))
      }
      t.teardown(() => {
        for (const socket of sockets) socket.destroy()
      })

      const deadline = GRACE_MS + EXIT_ALLOWANCE_MS
      const exit = await exitAfterSigterm(server, deadline)
      t.ok(exit.took !== undefined && exit.took <= exit.allowedMs, exit.describe())
      if (!unanswered) {
        t.equal(await server.exited, 0, 'exit 0: the close ended once the connections were cut')
        t.match(server.output(), /"msg":"stopped"/)
      }
    })
  }
})
