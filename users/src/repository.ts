import { fileURLToPath } from 'node:url'
import {
  contracts,
  MAX_TOKEN_TTL_SECONDS,
  type Migration,
  type Queryable,
  type Role,
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
   * Creates the user, active now, with their password's hash and role; undefined when the id is
   * taken, or was deleted so recently that a token issued to its former holder may still be valid.
   */
  async create(
    id: string,
    name: string,
    passwordHash: string,
    role: Role = 'customer',
  ): Promise<contracts.User | undefined> {
    const [user] = await this.db.query<contracts.User>(
      `INSERT INTO users (id, name, last_active, password_hash, role)
       SELECT $1, $2, extract(epoch FROM now())::bigint, $3, $5
       WHERE NOT EXISTS (
         SELECT 1 FROM deleted_usernames WHERE username = $1 AND deleted_at > now() - make_interval(secs => $4)
       )
       ON CONFLICT (id) DO NOTHING RETURNING ${COLUMNS}`,
      [id, name, passwordHash, DELETED_NAME_HOLD_SECONDS, role],
    )
    return user
  }

  /**
   * Sets what is given of the name, the password hash and the role; undefined when there is no
   * such user, or when the change would take the role from the last administrator.
   */
  async update(
    id: string,
    changes: { name?: string; passwordHash?: string; role?: Role },
  ): Promise<contracts.User | undefined> {
    const [user] = await this.db.query<contracts.User>(
      `UPDATE users SET name = coalesce($2, name), password_hash = coalesce($3, password_hash), role = coalesce($4, role)
       WHERE id = $1
         AND ($4 IS DISTINCT FROM 'customer' OR role = 'customer'
              OR EXISTS (SELECT 1 FROM users AS other WHERE other.role = 'admin' AND other.id <> $1))
       RETURNING ${COLUMNS}`,
      [id, changes.name ?? null, changes.passwordHash ?? null, changes.role ?? null],
    )
    return user
  }

  /** Makes administrators of those of `ids` that never set a password of their own (the seeded ones). */
  async grantAdminToPasswordless(ids: readonly string[]): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(
      `UPDATE users SET role = 'admin' WHERE id = ANY($1) AND role = 'customer' AND password_hash IS NULL RETURNING id`,
      [[...ids]],
    )
    return rows.map((row) => row.id)
  }

  /** The stored role of each of `ids` that exists. */
  async rolesOf(ids: readonly string[]): Promise<Map<string, Role>> {
    const rows = await this.db.query<{ id: string; role: Role }>('SELECT id, role FROM users WHERE id = ANY($1)', [
      [...ids],
    ])
    return new Map(rows.map((row) => [row.id, row.role]))
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
