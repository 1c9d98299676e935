// A server whose output nobody reads any more (its launcher or test was killed) still exits on
// SIGTERM. Before, it stopped listening and never exited: pino's flush at exit retried the broken
// pipe forever (found with movies, showtimes and ui left running after a failed test).
import { IN_MEMORY } from '@cinema/kit'
import t from 'tap'
import { systemServices } from '../../scripts/services.mjs'
import { exitAfterSigterm, startServiceProcess } from '../helpers/service-process.js'
import { freeOffset } from '../helpers/system.js'

const GRACE_MS = 2_000
const EXIT_ALLOWANCE_MS = 1_000

t.test('a server whose output has no reader still exits on SIGTERM', async (t) => {
  const services = systemServices({ portOffset: await freeOffset(), dataDir: IN_MEMORY })
  const started = await Promise.all(
    services.map((service) => startServiceProcess(t, service, { SHUTDOWN_GRACE_MS: String(GRACE_MS) })),
  )
  for (const [index, service] of services.entries()) {
    const server = started[index]
    if (!server) continue
    await t.test(service.name, async (t) => {
      server.child.stdout?.destroy()
      server.child.stderr?.destroy()
      const deadline = GRACE_MS + EXIT_ALLOWANCE_MS
      const exit = await exitAfterSigterm(server, deadline)
      t.ok(exit.took !== undefined && exit.took <= exit.allowedMs, exit.describe())
      t.equal(await Promise.race([server.exited, 'running']), 0, 'exit 0')
    })
  }
})
