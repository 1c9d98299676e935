import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'
import proxyAddr from '@fastify/proxy-addr'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { items } from './config.js'

const KEYWORDS = new Set(['loopback', 'linklocal', 'uniquelocal'])
const REFRESH_MS = 10_000

type Trust = (address: string, hop: number) => boolean

/**
 * Fastify's `trustProxy` from TRUST_PROXY: addresses, CIDRs and @fastify/proxy-addr's keywords as usual,
 * plus host names (Compose's `ui`), looked up at start and again every 10 s, since a container's
 * address changes when it is recreated. Until a name resolves, nothing is trusted under it.
 */
export function trustedProxies(entries: string[]): false | Trust {
  if (entries.length === 0) return false
  const names = entries.filter((entry) => !KEYWORDS.has(entry) && isIP(entry.split('/')[0] ?? '') === 0)
  const literal = proxyAddr.compile(entries.filter((entry) => !names.includes(entry)))
  if (names.length === 0) return literal

  let resolved = new Set<string>()
  let refreshedAt = 0
  const refresh = () => {
    refreshedAt = Date.now()
    Promise.all(
      names.map((name) =>
        lookup(name, { all: true }).then(
          (addresses) => addresses.map(({ address }) => address),
          () => [],
        ),
      ),
    ).then((lists) => {
      resolved = new Set(lists.flat())
    })
  }
  refresh()
  return (address, hop) => {
    if (Date.now() - refreshedAt > REFRESH_MS) refresh()
    return literal(address, hop) || resolved.has(address.replace(/^::ffff:/, ''))
  }
}

/**
 * Who a client is, for an edge's per-client limits: whose X-Forwarded-For is believed (the
 * service's `trustProxy`, see trustedProxies) and which clients no limit applies to.
 */
export const ClientAddressSettings = {
  RATE_LIMIT_ALLOW: Type.String({
    default: '127.0.0.1,::1,::ffff:127.0.0.1',
    description:
      'comma-separated client addresses never rate limited (loopback, so local load tests get through); none: nobody',
  }),
  TRUST_PROXY: Type.String({
    default: '',
    description:
      'proxies whose X-Forwarded-For is believed: addresses, CIDRs, loopback/linklocal/uniquelocal or host names; empty: none',
  }),
}

/**
 * How @fastify/rate-limit tells clients apart: by address, an IPv6 /64 counted as one client (as
 * the connection limits count them: a host is commonly given a whole /64, and a budget per single
 * IPv6 address would let it try 2^64 times over); RATE_LIMIT_ALLOW's addresses not counted.
 */
export function perClientRateLimit(allowSetting: string): {
  ipv6Subnet: number
  allowList: (request: FastifyRequest) => boolean
} {
  const allowed = allowListed(allowSetting)
  // Matched on the address: the plugin's own list is matched on its key, the /64 (`::` for ::1).
  return { ipv6Subnet: 64, allowList: (request) => allowed(request.ip) }
}

/**
 * Whether an address is one of RATE_LIMIT_ALLOW's, however it is written: IPv4-mapped (a
 * dual-stack listener's `::ffff:10.0.0.5`), upper case or expanded IPv6 alike. `none`: nobody (an
 * empty value means the default wherever Compose passes settings on). An entry that is not an IP
 * address stops the start, naming it.
 */
export function allowListed(setting: string): (address: string) => boolean {
  const entries = setting === 'none' ? [] : items(setting)
  const list = new BlockList()
  for (const entry of entries) {
    const family = isIP(entry)
    if (family === 0) throw new Error(`RATE_LIMIT_ALLOW: ${entry} is not an IP address`)
    list.addAddress(entry, family === 6 ? 'ipv6' : 'ipv4')
  }
  return (address) => {
    const family = isIP(address)
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4')
  }
}

/**
 * Whether a parsed request body carries a password to check or set (`password`, `current_password`):
 * what makes a change to a user cost a hash, and so count against the password budgets.
 */
export const carriesPassword = (body: unknown): boolean =>
  typeof body === 'object' && body !== null && ('password' in body || 'current_password' in body)
