import { contracts, type PeerClient } from '@cinema/kit'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

// /status is public: however often it is asked, the services are asked at most once per second.
const STATUS_CACHE_MS = 1_000

async function checkServices(clients: Map<string, PeerClient>): Promise<contracts.SystemStatus> {
  const services = await Promise.all(
    [...clients].map(async ([name, client]) => {
      const started = performance.now()
      try {
        const response = await client.request({ path: '/readyz' })
        const latencyMs = Math.round((performance.now() - started) * 10) / 10
        const up = response.statusCode === 200
        return {
          name,
          status: up ? ('up' as const) : ('down' as const),
          latencyMs,
          detail: up ? 'ready' : `answered ${response.statusCode}`,
        }
      } catch (error) {
        const latencyMs = Math.round((performance.now() - started) * 10) / 10
        return {
          name,
          status: 'down' as const,
          latencyMs,
          detail: error instanceof Error ? error.message : String(error),
        }
      }
    }),
  )
  return { services, checkedAt: new Date().toISOString() }
}

/**
 * `GET /status`: readiness and response time of every service, as the gateway sees them, checked
 * at most once per second: hits in between (also while a check is under way) share its answer.
 */
export const statusRoutes: FastifyPluginAsyncTypebox<{ clients: Map<string, PeerClient> }> = async (
  fastify,
  { clients },
) => {
  let latest: { startedAt: number; status: Promise<contracts.SystemStatus> } | undefined
  fastify.get(
    '/status',
    {
      config: { observe: false },
      schema: {
        operationId: 'getStatus',
        tags: ['operations'],
        summary: 'Whether each service is up, and how fast it answers (checked at most once per second)',
        response: { 200: contracts.SystemStatus },
      },
    },
    async () => {
      const now = Date.now()
      if (!latest || now - latest.startedAt >= STATUS_CACHE_MS) {
        // Shared by every hit until the next check: no one request's, so the client's own calls (no request id).
        latest = { startedAt: now, status: checkServices(clients) }
      }
      return latest.status
    },
  )
}
