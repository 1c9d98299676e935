// What every kit test's sample service shares: its settings and identity. Each test adds the
// routes it needs as the service's `app`, and builds it with `buildService` as services are built.
import { type loadConfig, serviceConfigSchema } from '../../src/config.js'

export const Config = serviceConfigSchema(0, {})
export type Config = ReturnType<typeof loadConfig<typeof Config>>

export const SAMPLE = {
  name: 'sample',
  configSchema: Config,
  openapi: { title: 'Sample', description: 'a service for kit tests' },
}
