import { createPeerClient, type PeerClient } from '@cinema/kit'
import type { FastifyInstance } from 'fastify'
import type { GatewayConfig, Upstream } from './config.js'

/** A client for the gateway's own calls to a service: no breaker, its answers pass on as they are. */
function ownClient(
  fastify: FastifyInstance,
  { name, url }: { name: string; url: string },
  config: GatewayConfig,
  { connections, responseTimeoutMs }: { connections: number; responseTimeoutMs: number },
): PeerClient {
  return createPeerClient(fastify, {
    name,
    baseUrl: url,
    connectTimeoutMs: config.UPSTREAM_CONNECT_TIMEOUT_MS,
    responseTimeoutMs,
    connections,
    replicaRefreshMs: config.REPLICA_REFRESH_MS,
    breaker: null,
  })
}

/**
 * One small client per service for the gateway's own calls to it (/status probes, /docs
 * documents); proxied traffic has its own pools. No breaker holds calls back, so /status reports
 * every service's real answer, and a probe waits at most 2 s.
 */
export function upstreamClients(
  fastify: FastifyInstance,
  upstreams: readonly Upstream[],
  config: GatewayConfig,
): Map<string, PeerClient> {
  return new Map(
    upstreams.map((upstream) => [
      upstream.name,
      ownClient(fastify, upstream, config, { connections: 1, responseTimeoutMs: 2_000 }),
    ]),
  )
}

// Sign-ins wait on a password hash (~100 ms each): enough connections that a queue of them does
// not hold up the fetch of signing keys, which shares this client.
const IDENTITY_CONNECTIONS = 16

/**
 * The gateway's own calls to the users service about identity (web sign-in, the signing keys),
 * apart from the /status probe's single connection: a burst of sign-ins must not stall probes or
 * key fetches.
 */
export function identityClient(fastify: FastifyInstance, url: string, config: GatewayConfig): PeerClient {
  return ownClient(fastify, { name: 'users', url }, config, {
    connections: IDENTITY_CONNECTIONS,
    responseTimeoutMs: config.UPSTREAM_TIMEOUT_MS,
  })
}
