import { fileURLToPath } from 'node:url'
import { databaseSettings, PeerSettings, peerUrl, SERVICES, serviceConfigSchema } from '@cinema/kit'
import { type Static, Type } from 'typebox'

export const UsersConfig = serviceConfigSchema(SERVICES.users.port, {
  ...databaseSettings('users', fileURLToPath(new URL('../../.data/users', import.meta.url))),
  SEED_FILE: Type.String({
    default: fileURLToPath(new URL('../../data/users.json', import.meta.url)),
    description: 'users loaded into an empty database on first start',
  }),
  MOVIES_URL: peerUrl('movies'),
  SHOWTIMES_URL: peerUrl('showtimes'),
  BOOKINGS_URL: peerUrl('bookings'),
  CATALOG_CACHE_TTL_MS: Type.Integer({
    minimum: 0,
    default: 1_000,
    description: 'how long the movie catalog and schedule fetched from their services are reused',
  }),
  ...PeerSettings,
})
export type UsersConfig = Static<typeof UsersConfig>
