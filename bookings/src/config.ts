import { fileURLToPath } from 'node:url'
import { AuthSettings, databaseSettings, PeerSettings, peerUrl, SERVICES, serviceConfigSchema } from '@cinema/kit'
import { type Static, Type } from 'typebox'

export const BookingsConfig = serviceConfigSchema(SERVICES.bookings.port, {
  ...databaseSettings('bookings', fileURLToPath(new URL('../../.data/bookings', import.meta.url))),
  SEED_FILE: Type.String({
    default: fileURLToPath(new URL('../../data/bookings.json', import.meta.url)),
    description: 'bookings loaded into an empty database on first start',
  }),
  USERS_URL: peerUrl('users'),
  SHOWTIMES_URL: peerUrl('showtimes'),
  ...PeerSettings,
  ...AuthSettings,
})
export type BookingsConfig = Static<typeof BookingsConfig>
