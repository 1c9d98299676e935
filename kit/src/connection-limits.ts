import type { Server } from 'node:net'
import { Type } from 'typebox'

const perClient = (fallback: number, description: string) =>
  Type.Integer({ minimum: 0, default: fallback, description })

/** MAX_CONNECTIONS_PER_CLIENT as every service has it: off, behind the gateway's pooled connections from one address. */
export const ConnectionSettings = {
  MAX_CONNECTIONS_PER_CLIENT: perClient(
    0,
    'open connections one client address may hold at most; further ones are closed at once; 0: no limit',
  ),
}

/**
 * MAX_CONNECTIONS_PER_CLIENT at the edge (the gateway, the UI server): on, so that one client cannot
 * hold MAX_CONNECTIONS by itself. A browser opens at most six per site; 64 leaves room for a few
 * people behind one NAT address.
 */
export const EdgeConnectionSettings = {
  MAX_CONNECTIONS_PER_CLIENT: perClient(
    64,
    'open connections one client address (an IPv6 /64) may hold at most; further ones are closed at once; 0: no limit',
  ),
}

/**
 * Whom a connection counts against: its IPv4 address, or the /64 an IPv6 address is in (one host
 * is commonly given a whole /64, so counting single IPv6 addresses would not hold it back).
 */
export function clientOf(address: string): string {
  if (!address.includes(':') || address.startsWith('::ffff:')) return address
  const [head = '', tail] = address.split('%', 1)[0]?.split('::') ?? []
  const leading = head ? head.split(':') : []
  const trailing = tail ? tail.split(':') : []
  const groups =
    tail === undefined ? leading : [...leading, ...Array(8 - leading.length - trailing.length).fill('0'), ...trailing]
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(':')}::/64`
}

/**
 * Closes at once each connection beyond `limit` open ones from one client, so that one client
 * holding idle connections does not use up MAX_CONNECTIONS for everyone else. Addresses that
 * `exempt` names (a trusted proxy, whose one address carries many people) are not counted.
 */
export function limitConnectionsPerClient(server: Server, limit: number, exempt: (address: string) => boolean): void {
  if (limit === 0) return
  // Keyed by remote addresses: a Map, so that no address can name an inherited member.
  const open = new Map<string, number>()
  server.on('connection', (socket) => {
    const address = socket.remoteAddress
    if (address === undefined || exempt(address)) return
    const client = clientOf(address)
    const count = (open.get(client) ?? 0) + 1
    if (count > limit) {
      socket.destroy()
      return
    }
    open.set(client, count)
    socket.once('close', () => {
      const left = (open.get(client) ?? 1) - 1
      if (left === 0) open.delete(client)
      else open.set(client, left)
    })
  })
}
