// @ts-check
// Renders a service's pino JSON line for people reading `npm start` output.

const LEVELS = /** @type {Record<number, [string, number]>} */ ({
  10: ['TRACE', 90],
  20: ['DEBUG', 90],
  30: ['INFO ', 32],
  40: ['WARN ', 33],
  50: ['ERROR', 31],
  60: ['FATAL', 31],
})
const OMITTED = new Set(['level', 'time', 'pid', 'hostname', 'service', 'msg', 'reqId'])

/** @param {unknown} value */
function show(value) {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value
  return JSON.stringify(value)
}

/**
 * `12:00:01.123 INFO  GET /movies → 200 1.2 ms  (reqId)`; lines that are not pino JSON pass unchanged.
 * @param {string} line
 * @param {boolean} colour
 */
export function formatLogLine(line, colour) {
  if (!line.startsWith('{')) return line
  /** @type {Record<string, unknown>} */
  let entry
  try {
    entry = JSON.parse(line)
  } catch {
    return line
  }
  const [name, code] = LEVELS[Number(entry.level)] ?? ['?????', 0]
  const level = colour ? `\x1b[${code}m${name}\x1b[0m` : name
  const time = new Date(Number(entry.time)).toISOString().slice(11, 23)
  let text
  if (entry.msg === 'request completed') {
    text = `${entry.method} ${entry.url} → ${entry.statusCode} ${entry.durationMs} ms`
  } else {
    const details = Object.entries(entry)
      .filter(([key]) => !OMITTED.has(key))
      .map(([key, value]) => `${key}=${show(value)}`)
    text = [entry.msg, ...details].filter(Boolean).join(' ')
  }
  const reqId = entry.reqId ? (colour ? ` \x1b[90m${entry.reqId}\x1b[0m` : ` ${entry.reqId}`) : ''
  return `${time} ${level} ${text}${reqId}`
}
