import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Type } from 'typebox'

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
 * `GET /livez` (the process answers) and `GET /readyz` (own dependencies reachable). Once shutdown
 * begins, Fastify itself answers every request, probes included, with 503 (`return503OnClosing`).
 */
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
