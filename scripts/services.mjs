// @ts-check
// The processes `npm start` runs, in one place for the launcher, `npm run stop` and the tests.
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const PID_DIR = join(ROOT, '.data', 'run')

/**
 * @typedef {object} Service
 * @property {string} name
 * @property {string} entry   compiled entry point, relative to the repository root
 * @property {string} source  TypeScript entry point, run by `npm run dev`
 * @property {string[]} nodeOptions  options for node itself, before the entry point
 * @property {number} port
 * @property {number} [metricsPort]  where its GET /metrics listens when not on `port` (the gateway's)
 * @property {string} url
 * @property {string} readyUrl
 * @property {number} colour  ANSI colour of its log prefix
 * @property {Record<string, string>} env  what it is told about its port, peers and data
 */

const BASE_PORTS = { users: 5000, movies: 5001, showtimes: 5002, bookings: 5003, gateway: 8080, ui: 5004 }
// The gateway's /metrics has an operations port of its own, on loopback (its METRICS_HOST default);
// the UI's /api/ reaches only the gateway's public port.
/** @type {Partial<Record<keyof BASE_PORTS, number>>} */
const BASE_METRICS_PORTS = { gateway: 9464 }
const COLOURS = { users: 36, movies: 33, showtimes: 35, bookings: 32, gateway: 34, ui: 91 }
/** @type {Record<keyof BASE_PORTS, (keyof BASE_PORTS)[]>} */
const PEERS = {
  users: ['movies', 'showtimes', 'bookings'],
  movies: [],
  showtimes: [],
  bookings: ['users', 'showtimes'],
  gateway: ['users', 'movies', 'showtimes', 'bookings'],
  ui: ['gateway'],
}
const OWNS_DATABASE = new Set(['users', 'bookings'])
// A 4 MB young generation (V8's default is 16 MB): peak RSS under load ~150 → ~115 MB for the same
// CPU per request (bench/README.md). The images run node with the same option.
const NODE_OPTIONS = ['--max-semi-space-size=4']

/**
 * The whole system on the original ports, or shifted by `portOffset` (tests run several systems
 * side by side); databases under `dataDir` (default: each service's own `.data/<service>`).
 * @param {{ portOffset?: number, dataDir?: string }} [options]
 * @returns {Service[]}
 */
export function systemServices({ portOffset = 0, dataDir } = {}) {
  /** @param {keyof BASE_PORTS} name */
  const urlOf = (name) => `http://127.0.0.1:${BASE_PORTS[name] + portOffset}`
  return /** @type {(keyof BASE_PORTS)[]} */ (Object.keys(BASE_PORTS)).map((name) => {
    /** @type {Record<string, string>} */
    const env = { PORT: String(BASE_PORTS[name] + portOffset) }
    for (const peer of PEERS[name]) env[`${peer.toUpperCase()}_URL`] = urlOf(peer)
    if (dataDir && OWNS_DATABASE.has(name)) env.DATA_DIR = dataDir === 'memory://' ? dataDir : join(dataDir, name)
    // The web app Vite builds; said here because the ui server's default is relative to its
    // compiled file, and `npm run dev` runs it from its source.
    if (name === 'ui') env.UI_STATIC_DIR = join(ROOT, 'ui', 'dist', 'public')
    const baseMetricsPort = BASE_METRICS_PORTS[name]
    const metricsPort = baseMetricsPort === undefined ? undefined : baseMetricsPort + portOffset
    if (metricsPort !== undefined) env.METRICS_PORT = String(metricsPort)
    return {
      name,
      entry: `${name}/dist/server.js`,
      source: name === 'ui' ? 'ui/server/server.ts' : `${name}/src/server.ts`,
      nodeOptions: NODE_OPTIONS,
      port: BASE_PORTS[name] + portOffset,
      metricsPort,
      url: urlOf(name),
      readyUrl: `${urlOf(name)}/readyz`,
      colour: COLOURS[name],
      env,
    }
  })
}
