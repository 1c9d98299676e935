import { fileURLToPath } from 'node:url'
import { serviceConfigSchema } from '@cinema/kit'
import { type Static, Type } from 'typebox'

export const MoviesConfig = serviceConfigSchema(5001, {
  MOVIES_FILE: Type.String({
    default: fileURLToPath(new URL('../../data/movies.json', import.meta.url)),
    description: 'the movie catalog (JSON keyed by movie id)',
  }),
})
export type MoviesConfig = Static<typeof MoviesConfig>
