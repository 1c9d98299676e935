import { totalmem } from 'node:os'
import { getHeapStatistics } from 'node:v8'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { BaseConfig } from './config.js'
import { errorBody } from './errors.js'

const RETRY_AFTER_S = 10

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false`: the route still answers while the process sheds load (the probes). */
    shed?: boolean
  }
}

/** The memory this process may use: its container's limit when it has one, else the machine's. */
function memoryLimit(): number {
  return Math.min(process.constrainedMemory?.() || Number.POSITIVE_INFINITY, totalmem())
}

const share = (percent: number, of: number) => Math.round((of * percent) / 100)

/**
 * Answers 503 with `Retry-After` instead of taking more work while the process is overloaded
 * (event loop lagging, heap or resident memory near their limit), before it falls over; `/readyz`
 * says not ready meanwhile, `/livez` keeps answering. Measured once a second by @fastify/under-pressure.
 */
export const loadShedding = fp(
  async (fastify: FastifyInstance, { service, config }: { service: string; config: BaseConfig }) => {
    await fastify.register(underPressure, {
      maxEventLoopDelay: config.OVERLOAD_EVENT_LOOP_DELAY_MS,
      maxHeapUsedBytes: share(config.OVERLOAD_HEAP_PERCENT, getHeapStatistics().heap_size_limit),
      maxRssBytes: share(config.OVERLOAD_RSS_PERCENT, memoryLimit()),
      pressureHandler: (request, reply) => {
        // Returning lets the request through; once a reply is sent, Fastify goes no further.
        if (request.routeOptions.config.shed === false) return
        reply
          .code(503)
          .header('retry-after', RETRY_AFTER_S)
          .send(
            errorBody(
              503,
              `the ${service} service is overloaded; try again in ${RETRY_AFTER_S} s`,
              'OVERLOADED',
              service,
            ),
          )
      },
    })
    fastify.addReadinessCheck('load', async () => {
      if (fastify.isUnderPressure()) throw new Error('overloaded: new requests are answered 503')
    })
  },
  { name: 'cinema-load-shedding', dependencies: ['cinema-health'] },
)
