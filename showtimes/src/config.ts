import { fileURLToPath } from 'node:url'
import { SERVICES, serviceConfigSchema } from '@cinema/kit'
import { type Static, Type } from 'typebox'

export const ShowtimesConfig = serviceConfigSchema(SERVICES.showtimes.port, {
  SHOWTIMES_FILE: Type.String({
    default: fileURLToPath(new URL('../../data/showtimes.json', import.meta.url)),
    description: 'the schedule (JSON: movie ids keyed by date)',
  }),
})
export type ShowtimesConfig = Static<typeof ShowtimesConfig>
