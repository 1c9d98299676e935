import { fileURLToPath } from 'node:url'
import { SERVICES, serviceConfigSchema } from '@cinema/kit'
import { type Static, Type } from 'typebox'

export const MoviesConfig = serviceConfigSchema(SERVICES.movies.port, {
  MOVIES_FILE: Type.String({
    default: fileURLToPath(new URL('../../data/movies.json', import.meta.url)),
    description: 'the movie catalog (JSON keyed by movie id)',
  }),
})
export type MoviesConfig = Static<typeof MoviesConfig>
