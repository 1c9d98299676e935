import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import {
  contracts,
  type Database,
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

// A user marked for deletion reads as absent for this long (docs/architecture.md, "Deleting a user
// while they book"); a mark left by a process that stopped mid-deletion lapses then.
const DELETION_MARK_SECONDS = 60
// A deletion completes only while its mark is younger than this: well inside the mark's life, so
// that no read can find the mark lapsed while the delete still counts on it (peer calls take seconds).
const DELETION_DEADLINE_SECONDS = DELETION_MARK_SECONDS / 2

// Not a user being deleted. Compared with the database's clock, the same for every replica.
const NOT_BEING_DELETED = `(deleting_since IS NULL OR deleting_since <= now() - make_interval(secs => ${DELETION_MARK_SECONDS}))`

// Any fixed 64-bit key. What could leave no administrator (revoking the role, deleting an account)
// checks that another one remains and acts in one transaction holding it: two administrators
// revoking or deleting each other at once on PostgreSQL would otherwise each see the other remain.
// (Under READ COMMITTED, PostgreSQL's default: the statement after the lock sees what the previous
// holder committed.)
const ADMIN_ROLES_LOCK = 727_274_021
// Another administrator remains: one not being deleted, other than $1.
const ANOTHER_ADMIN = `EXISTS (SELECT 1 FROM users AS other WHERE other.role = 'admin' AND other.id <> $1 AND ${NOT_BEING_DELETED})`

/** Users in the users database, in the order they were created. */
export class UserRepository {
  constructor(private readonly db: Database) {}

  async all(): Promise<contracts.UserCollection> {
    const rows = await this.db.query<contracts.User>(
      `SELECT ${COLUMNS} FROM users WHERE ${NOT_BEING_DELETED} ORDER BY position`,
      [],
      {
        cache: true,
      },
    )
    return recordFromEntries(rows.map((user) => [user.id, user]))
  }

  async byId(id: string): Promise<contracts.User | undefined> {
    const [user] = await this.db.query<contracts.User>(
      `SELECT ${COLUMNS} FROM users WHERE id = $1 AND ${NOT_BEING_DELETED}`,
      [id],
      {
        cache: true,
      },
    )
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
    const update = (db: Queryable) =>
      db.query<contracts.User>(
        `UPDATE users SET name = coalesce($2, name), password_hash = coalesce($3, password_hash), role = coalesce($4, role)
         WHERE id = $1 AND ($4 IS DISTINCT FROM 'customer' OR role = 'customer' OR ${ANOTHER_ADMIN})
         RETURNING ${COLUMNS}`,
        [id, changes.name ?? null, changes.passwordHash ?? null, changes.role ?? null],
      )
    if (changes.role !== 'customer') return (await update(this.db))[0]
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [ADMIN_ROLES_LOCK])
      return (await update(tx))[0]
    })
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

  /**
   * Marks the user as being deleted, before the deletion asks whether they have bookings: from now
   * on they read as absent, so a booking checked after this is refused. The deletion's id, to
   * complete or abandon it with; `last admin` when the user is the last administrator (one being
   * deleted no longer counts); undefined when there is no such user, or one being deleted.
   */
  async beginDeletion(id: string): Promise<string | 'last admin' | undefined> {
    const deletionId = randomUUID()
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [ADMIN_ROLES_LOCK])
      const [user] = await tx.query<{ marked: boolean }>(
        `WITH marked AS (
           UPDATE users SET deleting_since = now(), deletion_id = $2
           WHERE id = $1 AND ${NOT_BEING_DELETED} AND (role <> 'admin' OR ${ANOTHER_ADMIN})
           RETURNING id
         )
         SELECT EXISTS (SELECT 1 FROM marked) AS marked FROM users WHERE id = $1 AND ${NOT_BEING_DELETED}`,
        [id, deletionId],
      )
      if (!user) return undefined
      return user.marked ? deletionId : 'last admin'
    })
  }

  /** Takes this deletion's mark off (the user stays); a later deletion's mark is left alone. */
  async abandonDeletion(id: string, deletionId: string): Promise<void> {
    await this.db.query(
      'UPDATE users SET deleting_since = NULL, deletion_id = NULL WHERE id = $1 AND deletion_id = $2',
      [id, deletionId],
    )
  }

  /**
   * Deletes the user while this deletion's mark stands (false once it is older than the deadline,
   * or gone), and holds their name back from sign-up while their tokens may live.
   */
  async remove(id: string, deletionId: string): Promise<boolean> {
    const removed = await this.db.query(
      `WITH gone AS (
         DELETE FROM users
         WHERE id = $1 AND deletion_id = $2 AND deleting_since > now() - make_interval(secs => $3)
         RETURNING id
       )
       INSERT INTO deleted_usernames (username) SELECT id FROM gone
       ON CONFLICT (username) DO UPDATE SET deleted_at = now() RETURNING username`,
      [id, deletionId, DELETION_DEADLINE_SECONDS],
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
