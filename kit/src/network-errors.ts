/**
 * How a call over the network failed, for the peer client, the gateway's proxy and the database:
 * - `connect`: it never reached a live peer (refused, reset, no route, name not resolved, the
 *   connection dropped or could not be made in time), so the peer is unavailable and an
 *   idempotent request is safe to send again;
 * - `timeout`: the peer took the request but did not answer in time;
 * - `other`: anything else (a bad answer, a bug, an error that is not about the network).
 */
export type NetworkFailure = 'connect' | 'timeout' | 'other'

const CONNECT_FAILURES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
])
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])
// The connect failures that leave no doubt the request never reached the peer (unlike a reset,
// which can come after the peer acted on it).
const NEVER_CONNECTED = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
])

/** The system or undici code of an error, or of the error it wraps (undici and reply-from wrap them). */
export function networkErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const { code, cause } = error as { code?: unknown; cause?: { code?: unknown } }
  const rootCode = cause?.code ?? code
  return typeof rootCode === 'string' ? rootCode : undefined
}

/** Whether the call surely never reached the peer: no connection was made. */
export function neverConnected(error: unknown): boolean {
  return NEVER_CONNECTED.has(networkErrorCode(error) ?? '')
}

export function classifyNetworkError(error: unknown): NetworkFailure {
  const code = networkErrorCode(error)
  if (code === undefined) return 'other'
  if (CONNECT_FAILURES.has(code)) return 'connect'
  return TIMEOUTS.has(code) ? 'timeout' : 'other'
}
