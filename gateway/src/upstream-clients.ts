import { createPeerClient, type PeerClient } from '@cinema/kit'
import type { FastifyInstance } from 'fastify'
import type { GatewayConfig, Upstream } from './config.js'

/**
 * One small client per service for the gateway's own calls to it (/status probes, /docs
 * documents); proxied traffic has its own pools. The breaker never holds calls back, so /status
 * reports every service's real answer, and a probe waits at most 2 s.
 */
export function upstreamClients(
  fastify: FastifyInstance,
  upstreams: readonly Upstream[],
  config: GatewayConfig,
): Map<string, PeerClient> {
  const settings = {
    PEER_CONNECT_TIMEOUT_MS: config.UPSTREAM_CONNECT_TIMEOUT_MS,
    PEER_TIMEOUT_MS: 2_000,
    PEER_CONNECTIONS: 1,
    PEER_BREAKER_FAILURES: Number.MAX_SAFE_INTEGER,
    PEER_BREAKER_COOLDOWN_MS: 1,
  }
  return new Map(upstreams.map(({ name, url }) => [name, createPeerClient(fastify, settings, name, url)]))
}
