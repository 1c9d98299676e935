import type { FastifyInstance } from 'fastify'
import { type Static, Type } from 'typebox'
import { PeerClient, type PeerOptions } from './peer-client.js'
import { localUrl, type ServiceName } from './topology.js'

/** Environment settings shared by every service that calls peers. */
export const PeerSettings = {
  PEER_CONNECT_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 1_000, description: 'connect timeout to a peer' }),
  PEER_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 3_000, description: 'longest wait for a peer to answer' }),
  PEER_CONNECTIONS: Type.Integer({ minimum: 1, default: 64, description: 'keep-alive connections per peer replica' }),
  PEER_BREAKER_FAILURES: Type.Integer({ minimum: 1, default: 5, description: 'failures in a row that pause calls' }),
  PEER_BREAKER_COOLDOWN_MS: Type.Integer({ minimum: 1, default: 2_000, description: 'pause before probing again' }),
  REPLICA_REFRESH_MS: Type.Integer({
    minimum: 100,
    default: 5_000,
    description: "how often a peer's host name is resolved again to find its replicas",
  }),
}

type PeerSettingsConfig = Static<ReturnType<typeof Type.Object<typeof PeerSettings>>>

/** A base-URL setting for one peer, defaulting to its port on this machine. */
export function peerUrl(name: ServiceName) {
  return Type.String({ default: localUrl(name), description: `base URL of the ${name} service` })
}

/** A client's options from the environment settings, for the peer `name` at `baseUrl`. */
export function peerOptions(config: PeerSettingsConfig, name: string, baseUrl: string): PeerClientOptions {
  return {
    name,
    baseUrl,
    connectTimeoutMs: config.PEER_CONNECT_TIMEOUT_MS,
    responseTimeoutMs: config.PEER_TIMEOUT_MS,
    connections: config.PEER_CONNECTIONS,
    replicaRefreshMs: config.REPLICA_REFRESH_MS,
    breaker: { failureThreshold: config.PEER_BREAKER_FAILURES, cooldownMs: config.PEER_BREAKER_COOLDOWN_MS },
  }
}

/** A client's options but its metrics, which come from the app. */
export type PeerClientOptions = Omit<PeerOptions, 'metrics'>

/** A client for one peer, reporting to the app's metrics and closed with the app. */
export function createPeerClient(fastify: FastifyInstance, options: PeerClientOptions) {
  const client = new PeerClient({ ...options, metrics: fastify.metrics })
  fastify.addHook('onClose', async () => client.close())
  return client
}
