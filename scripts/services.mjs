// @ts-check
// The processes `npm start` runs, in one place for the launcher, `npm run stop` and the tests.
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const PID_DIR = fileURLToPath(new URL('../.data/run', import.meta.url))

/**
 * @typedef {object} Service
 * @property {string} name
 * @property {string} entry   compiled entry point, relative to the repository root
 * @property {number} port
 * @property {string} url
 * @property {string} readyUrl
 * @property {number} colour  ANSI colour of its log prefix
 * @property {Record<string, string>} env
 */

/** @param {string} name @param {number} port @param {number} colour @param {string} [entry] @returns {Service} */
function service(name, port, colour, entry = `${name}/dist/server.js`) {
  const url = `http://127.0.0.1:${port}`
  return { name, entry, port, url, readyUrl: `${url}/readyz`, colour, env: {} }
}

/** @type {Service[]} */
export const SERVICES = [
  service('users', 5000, 36),
  service('movies', 5001, 33),
  service('showtimes', 5002, 35),
  service('bookings', 5003, 32),
  service('gateway', 8080, 34),
]
