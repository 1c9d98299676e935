import { fileURLToPath } from 'node:url'
import {
  contracts,
  MAX_TOKEN_TTL_SECONDS,
  type Migration,
  type Queryable,
  readDataFile,
  recordFromEntries,
  seedMigration,
  sqlMigrations,
} from '@cinema/kit'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

const COLUMNS = 'id, name, last_active'

// A deleted name is held for longer than any token issued to it can be accepted (an hour, plus
// the verifiers' clock tolerance and a sign-in that was under way).
const DELETED_NAME_HOLD_SECONDS = MAX_TOKEN_TTL_SECONDS + 5 * 60

/** Users in the users database, in the order they were created. */
export class UserRepository {
  constructor(private readonly db: Queryable) {}

  async all(): Promise<contracts.UserCollection> {
    const rows = await this.db.query<contracts.User>(`SELECT ${COLUMNS} FROM users ORDER BY position`, [], {
      cache: true,
    })
    return recordFromEntries(rows.map((user) => [user.id, user]))
  }

  async byId(id: string): Promise<contracts.User | undefined> {
    const [user] = await this.db.query<contracts.User>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id], {
      cache: true,
    })
    return user
  }

  /**
   * Creates the user, active now, with their password's hash; undefined when the id is taken, or
   * was deleted so recently that a token issued to its former holder may still be valid.
   */
  async create(id: string, name: string, passwordHash: string): Promise<contracts.User | undefined> {
    const [user] = await this.db.query<contracts.User>(
      `INSERT INTO users (id, name, last_active, password_hash)
       SELECT $1, $2, extract(epoch FROM now())::bigint, $3
       WHERE NOT EXISTS (
         SELECT 1 FROM deleted_usernames WHERE username = $1 AND deleted_at > now() - make_interval(secs => $4)
       )
       ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`,
      [id, name, passwordHash, DELETED_NAME_HOLD_SECONDS],
    )
    return user
  }

  /** Sets what is given of the name and the password hash; undefined when there is no such user. */
  async update(id: string, changes: { name?: string; passwordHash?: string }): Promise<contracts.User | undefined> {
    const [user] = await this.db.query<contracts.User>(
      `UPDATE users SET name = coalesce($2, name), password_hash = coalesce($3, password_hash)
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, changes.name ?? null, changes.passwordHash ?? null],
    )
    return user
  }

  /** Deletes the user, and holds their name back from sign-up while their tokens may live. */
  async remove(id: string): Promise<boolean> {
    const removed = await this.db.query(
      `WITH gone AS (DELETE FROM users WHERE id = $1 RETURNING id)
       INSERT INTO deleted_usernames (username) SELECT id FROM gone
       ON CONFLICT (username) DO UPDATE SET deleted_at = now() RETURNING username`,
      [id],
    )
    return removed.length === 1
  }
}

/** The schema migrations, then the one-time seed from the original data set. */
export function userMigrations(seedFile: string): Migration[] {
  return [
    ...sqlMigrations(fileURLToPath(new URL('../migrations', import.meta.url))),
    seedMigration('seed_original_users', 'users', ['id', 'name', 'last_active'], () =>
      Object.values(readDataFile(seedFile, contracts.UserCollection)).map((user) => [
        user.id,
        user.name,
        user.last_active,
      ]),
    ),
  ]
}

declare module 'fastify' {
  interface FastifyInstance {
    users: UserRepository
  }
}

export const userRepository = fp(
  async (fastify: FastifyInstance) => {
    fastify.decorate('users', new UserRepository(fastify.db))
  },
  { name: 'user-repository', dependencies: ['cinema-database'] },
)
