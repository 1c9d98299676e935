import { fileURLToPath } from 'node:url'
import { serviceConfigSchema } from '@cinema/kit'
import { type Static, Type } from 'typebox'

export const ShowtimesConfig = serviceConfigSchema(5002, {
  SHOWTIMES_FILE: Type.String({
    default: fileURLToPath(new URL('../../data/showtimes.json', import.meta.url)),
    description: 'the schedule (JSON: movie ids keyed by date)',
  }),
})
export type ShowtimesConfig = Static<typeof ShowtimesConfig>
