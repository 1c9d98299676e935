// @ts-check
// The system's services: each one's default port and the peers it calls. Plain JavaScript with JSDoc
// types, so that the launcher's scripts (.mjs, run by node without a build) read it as the services do.

/** Each service's default port (PORT) and the services it calls, in the order the launcher starts them. */
export const SERVICES = /** @type {const} */ ({
  users: { port: 5000, peers: ['movies', 'showtimes', 'bookings'] },
  movies: { port: 5001, peers: [] },
  showtimes: { port: 5002, peers: [] },
  bookings: { port: 5003, peers: ['users', 'showtimes'] },
  // The gateway's /metrics has an operations port of its own (9464: OpenTelemetry's Prometheus exporter's).
  gateway: { port: 8080, metricsPort: 9464, peers: ['users', 'movies', 'showtimes', 'bookings'] },
  ui: { port: 5004, peers: ['gateway'] },
})

/** @typedef {keyof typeof SERVICES} ServiceName */

/** The services in launch order. */
export const SERVICE_NAMES = /** @type {ServiceName[]} */ (Object.keys(SERVICES))

/**
 * Where a service listens on this machine by default, or shifted by `portOffset`.
 * @param {ServiceName} name
 * @param {number} [portOffset]
 */
export function localUrl(name, portOffset = 0) {
  return `http://127.0.0.1:${SERVICES[name].port + portOffset}`
}
