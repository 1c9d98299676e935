import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import { errorBody } from './errors.js'
import { REPLICA_CLOSING_HEADER } from './replica-pool.js'

type ReadinessCheck = () => Promise<void>

declare module 'fastify' {
  interface FastifyInstance {
    /** Adds a check that must pass for `/readyz`: only this process's own dependencies, never peers. */
    addReadinessCheck(name: string, check: ReadinessCheck): void
  }
}

const CHECK_TIMEOUT_MS = 2_000

const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not ready')]),
  checks: Type.Record(Type.String(), Type.String(), { description: 'each check: "ok" or why it failed' }),
})

async function runCheck(check: ReadinessCheck): Promise<string> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${CHECK_TIMEOUT_MS} ms`), CHECK_TIMEOUT_MS)
  })
  try {
    return await Promise.race([check().then(() => 'ok'), timeout])
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  } finally {
    clearTimeout(timer)
  }
}

/**
 * While the service shuts down, a request that still arrives (on a keep-alive connection a caller
 * had open) is turned away, probes included, with a 503 that closes the connection and carries
 * REPLICA_CLOSING_HEADER: a caller's ReplicaPool sends it to another replica. (Fastify's own
 * closing 503, `return503OnClosing`, has no such mark, so it is off.)
 */
export const turnAwayWhileClosing = fp(
  async (fastify: FastifyInstance, { service }: { service: string }) => {
    let closing = false
    fastify.addHook('preClose', (done) => {
      closing = true
      done()
    })
    fastify.addHook('onRequest', (_request, reply, done) => {
      if (!closing) return done()
      const body = errorBody(503, `the ${service} service is shutting down; try again`, 'PEER_UNAVAILABLE', service)
      // Sent as text: the route's own 503 schema (/readyz has one) does not describe this body.
      reply
        .code(503)
        .header('connection', 'close')
        .header(REPLICA_CLOSING_HEADER, '1')
        .type('application/json; charset=utf-8')
        .send(JSON.stringify(body))
    })
  },
  { name: 'cinema-turn-away-while-closing' },
)

/** `GET /livez` (the process answers) and `GET /readyz` (own dependencies reachable). */
export const health = fp(
  async (fastify: FastifyInstance) => {
    const checks = new Map<string, ReadinessCheck>()
    fastify.decorate('addReadinessCheck', (name: string, check: ReadinessCheck) => {
      checks.set(name, check)
    })

    fastify.get(
      '/livez',
      {
        config: { observe: false, shed: false },
        schema: {
          operationId: 'getLiveness',
          tags: ['operations'],
          summary: 'Liveness: the process is running',
          response: { 200: Type.Object({ status: Type.Literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    )

    fastify.get(
      '/readyz',
      {
        config: { observe: false, shed: false },
        schema: {
          operationId: 'getReadiness',
          tags: ['operations'],
          summary: 'Readiness: own dependencies reachable (503 once shutdown begins)',
          response: { 200: Readiness, 503: Readiness },
        },
      },
      async (_request, reply) => {
        const results: Record<string, string> = {}
        const names = [...checks.keys()]
        const outcomes = await Promise.all([...checks.values()].map(runCheck))
        names.forEach((name, index) => {
          results[name] = outcomes[index] ?? 'not run'
        })
        const ready = Object.values(results).every((result) => result === 'ok')
        return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: results })
      },
    )
  },
  { name: 'cinema-health' },
)
