import { outsideAnyRequest, type PeerClient } from '@cinema/kit'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { type Static, Type } from 'typebox'

const ServiceStatus = Type.Object({
  name: Type.String(),
  status: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  latencyMs: Type.Number({ description: 'round trip of the service’s /readyz from the gateway' }),
  detail: Type.String({ description: '"ready", or why the service is down' }),
})

const Status = Type.Object({
  services: Type.Array(ServiceStatus),
  checkedAt: Type.String({ format: 'date-time' }),
})

// /status is public: however often it is asked, the services are asked at most once per second.
const STATUS_CACHE_MS = 1_000

async function checkServices(clients: Map<string, PeerClient>): Promise<Static<typeof Status>> {
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
  let latest: { startedAt: number; status: Promise<Static<typeof Status>> } | undefined
  fastify.get(
    '/status',
    {
      config: { observe: false },
      schema: {
        operationId: 'getStatus',
        tags: ['operations'],
        summary: 'Whether each service is up, and how fast it answers (checked at most once per second)',
        response: { 200: Status },
      },
    },
    async () => {
      const now = Date.now()
      if (!latest || now - latest.startedAt >= STATUS_CACHE_MS) {
        // Shared by every hit until the next check: no one request's, so it carries no request id.
        latest = { startedAt: now, status: outsideAnyRequest(() => checkServices(clients)) }
      }
      return latest.status
    },
  )
}
