// @ts-check
// The processes `npm start` runs, in one place for the launcher, `npm run stop` and the tests.
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { IN_MEMORY } from '../kit/src/db/in-memory.js'
import { localUrl, SERVICE_NAMES, SERVICES } from '../kit/src/topology.js'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const PID_DIR = join(ROOT, '.data', 'run')

/**
 * @typedef {object} Service
 * @property {string} name
 * @property {string} entry   what node runs (scripts/bundle.mjs makes it), relative to the repository root
 * @property {string} source  TypeScript entry point, run by `npm run dev`
 * @property {string[]} nodeOptions  options for node itself, before the entry point
 * @property {number} port
 * @property {number} [metricsPort]  where its GET /metrics listens when not on `port` (the gateway's)
 * @property {string} url
 * @property {string} readyUrl
 * @property {number} colour  ANSI colour of its log prefix
 * @property {Record<string, string>} env  what it is told about its port, peers and data
 */

const COLOURS = { users: 36, movies: 33, showtimes: 35, bookings: 32, gateway: 34, ui: 91 }
const OWNS_DATABASE = new Set(['users', 'bookings'])
// A 4 MB young generation (V8's default is 16 MB): peak RSS under load ~150 → ~115 MB for the same
// CPU per request (bench/README.md). The images run node with the same option.
const NODE_OPTIONS = ['--max-semi-space-size=4']
// `npm start` is a demo: the seeded users sign in with the demo password and michael_scott is an
// administrator, unless the environment says otherwise (DEMO_CREDENTIALS=false turns it off).
export const DEMO_SETTINGS = { DEMO_CREDENTIALS: 'true', ADMIN_USERNAMES: 'michael_scott' }

/**
 * The users service's demo settings where the environment does not set them. michael_scott is
 * the demo's administrator only with demo credentials: without them the seeded account has no
 * password anyone knows, and the users service refuses to start with a listed name that is not an
 * administrator (name your own, with ADMIN_BOOTSTRAP_PASSWORD).
 * @returns {Record<string, string>}
 */
function demoSettings() {
  const demoCredentials = process.env.DEMO_CREDENTIALS ?? DEMO_SETTINGS.DEMO_CREDENTIALS
  const fallbackAdmins = demoCredentials === 'true' ? DEMO_SETTINGS.ADMIN_USERNAMES : ''
  return { DEMO_CREDENTIALS: demoCredentials, ADMIN_USERNAMES: process.env.ADMIN_USERNAMES ?? fallbackAdmins }
}

/**
 * The whole system on the original ports, or shifted by `portOffset` (tests run several systems
 * side by side); databases under `dataDir` (default: each service's own `.data/<service>`).
 * @param {{ portOffset?: number, dataDir?: string }} [options]
 * @returns {Service[]}
 */
export function systemServices({ portOffset = 0, dataDir } = {}) {
  return SERVICE_NAMES.map((name) => {
    const topology = SERVICES[name]
    const port = topology.port + portOffset
    /** @type {Record<string, string>} */
    const env = { PORT: String(port) }
    for (const peer of topology.peers) env[`${peer.toUpperCase()}_URL`] = localUrl(peer, portOffset)
    if (name === 'users') Object.assign(env, demoSettings())
    // Users keys its password budget by the client the gateway (beside it on loopback) forwards for.
    if (name === 'users') env.TRUST_PROXY = 'loopback'
    if (dataDir && OWNS_DATABASE.has(name)) env.DATA_DIR = dataDir === IN_MEMORY ? dataDir : join(dataDir, name)
    // The web app Vite builds; said here because the ui server's default is relative to its
    // compiled file, and `npm run dev` runs it from its source.
    if (name === 'ui') env.UI_STATIC_DIR = join(ROOT, 'ui', 'dist', 'public')
    // The UI server reaches the gateway from loopback and says who its visitor is in
    // X-Forwarded-For; the gateway believes it from loopback, so each visitor has a budget of its
    // own and none is exempt as loopback is. Other local processes gain nothing by it: as loopback
    // they are allow-listed already, and a claimed address only gets them counted.
    if (name === 'gateway') env.TRUST_PROXY = process.env.TRUST_PROXY ?? 'loopback'
    // The gateway's /metrics has a port of its own (on loopback), shifted like the others.
    const metricsPort = 'metricsPort' in topology ? topology.metricsPort + portOffset : undefined
    if (metricsPort !== undefined) env.METRICS_PORT = String(metricsPort)
    return {
      name,
      // Beside tsc's server.js, so paths made from import.meta.url (data/, migrations/) are the same.
      entry: `${name}/dist/server.bundle.js`,
      source: name === 'ui' ? 'ui/server/server.ts' : `${name}/src/server.ts`,
      nodeOptions: NODE_OPTIONS,
      port,
      metricsPort,
      url: localUrl(name, portOffset),
      readyUrl: `${localUrl(name, portOffset)}/readyz`,
      colour: COLOURS[name],
      env,
    }
  })
}
