import { createPeerClient, type PeerClient } from '@cinema/kit'
import type { FastifyInstance } from 'fastify'
import type { GatewayConfig, Upstream } from './config.js'

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
    upstreams.map(({ name, url }) => [
      name,
      createPeerClient(fastify, {
        name,
        baseUrl: url,
        connectTimeoutMs: config.UPSTREAM_CONNECT_TIMEOUT_MS,
        responseTimeoutMs: 2_000,
        connections: 1,
        replicaRefreshMs: config.REPLICA_REFRESH_MS,
        breaker: null,
      }),
    ]),
  )
}
