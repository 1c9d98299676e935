import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import {
  AuthSettings,
  ClientAddressSettings,
  databaseSettings,
  MAX_TOKEN_TTL_SECONDS,
  PeerSettings,
  peerUrl,
  SERVICES,
  serviceConfigSchema,
} from '@cinema/kit'
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
  ...AuthSettings,
  TOKEN_TTL_SECONDS: Type.Integer({
    minimum: 60,
    maximum: MAX_TOKEN_TTL_SECONDS,
    default: MAX_TOKEN_TTL_SECONDS,
    description: 'how long a token from POST /auth/token is valid (at most an hour)',
  }),
  SIGNING_KEY_ROTATION_DAYS: Type.Integer({
    minimum: 1,
    default: 30,
    description: 'age at which the token signing key is replaced by a new one',
  }),
  DEMO_CREDENTIALS: Type.Boolean({
    default: false,
    description:
      'true: users without a password of their own (the seeded ones) sign in with "cinema-demo"; never in production',
  }),
  ADMIN_USERNAMES: Type.String({
    default: '',
    description:
      'comma-separated usernames kept for administrators: no one else may sign up under them, and one whose account is not an administrator stops the start',
  }),
  HASH_CONCURRENCY: Type.Integer({
    minimum: 1,
    default: availableParallelism(),
    description: 'password hashes computed at once (default: the number of cores)',
  }),
  HASH_QUEUE_MAX_WAIT_MS: Type.Integer({
    minimum: 0,
    // 50 people signing up and in at once through 3 replicas on 2 cores (Compose) are all in after
    // ~5.5 s; past this, a 503 at once, never the 10 s after which the gateway answers 504.
    default: 8_000,
    description:
      'longest expected wait for a password hash; past it sign-ins, sign-ups and password changes get 503 OVERLOADED at once',
  }),
  PASSWORD_RATE_LIMIT_MAX: Type.Integer({
    minimum: 1,
    default: 20,
    description:
      'requests that check or set a password (sign-in, sign-up, PATCH or DELETE /users/{u} with a password) per client per window',
  }),
  PASSWORD_RATE_LIMIT_WINDOW_MS: Type.Integer({
    minimum: 1,
    default: 60_000,
    description: 'window of PASSWORD_RATE_LIMIT_MAX',
  }),
  // The users port can be reached without the gateway: it keeps its own password budget.
  ...ClientAddressSettings,
  ADMIN_BOOTSTRAP_PASSWORD: Type.Optional(
    Type.String({
      minLength: 10,
      maxLength: 128,
      description:
        'from a secret: creates the ADMIN_USERNAMES users that do not exist yet, as administrators, with this password',
    }),
  ),
})
export type UsersConfig = Static<typeof UsersConfig>
