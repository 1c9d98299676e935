import { USERNAME_PATTERN } from '@cinema/kit/username'
import type { FastifyInstance } from 'fastify'
import type { Accounts } from './accounts.js'

export interface AdministratorSettings {
  /** ADMIN_USERNAMES. */
  usernames: readonly string[]
  /** ADMIN_BOOTSTRAP_PASSWORD. */
  bootstrapPassword: string | undefined
  demoCredentials: boolean
}

/**
 * Makes sure every name in ADMIN_USERNAMES that has an account is an administrator by a stored
 * role, never by the name alone (issue 18: anyone could have signed up under a listed name before
 * it was listed). The bootstrap password creates the absent ones as admins; in demo mode a seeded
 * account that never set a password of its own (the demo's administrator) is granted the role; any
 * other listed account that is a customer stops the start, naming it. Every step is one idempotent
 * statement, so replicas starting together agree without a lock.
 */
export async function settleAdministrators(
  fastify: FastifyInstance,
  accounts: Accounts,
  settings: AdministratorSettings,
): Promise<void> {
  const { usernames, bootstrapPassword } = settings
  if (usernames.length === 0) return
  // A name no account can have (`Admin`) would keep nothing reserved and create an account nobody
  // can sign in to: said at start rather than found out later.
  const impossible = usernames.filter((username) => !new RegExp(USERNAME_PATTERN).test(username))
  if (impossible.length > 0) {
    throw new Error(
      `ADMIN_USERNAMES lists ${impossible.join(', ')}, which no account can be named (lowercase letters, digits and _, 1 to 64)`,
    )
  }
  if (bootstrapPassword) {
    const passwordHash = await accounts.hashPassword(bootstrapPassword)
    for (const username of usernames) {
      if (await fastify.users.create(username, username, passwordHash, 'admin')) {
        fastify.log.info({ username }, 'administrator created with the bootstrap password; change it')
      }
    }
  }
  if (settings.demoCredentials) {
    for (const username of await fastify.users.grantAdminToPasswordless(usernames)) {
      fastify.log.info({ username }, 'demo administrator: seeded account granted the admin role')
    }
  }
  const roles = await fastify.users.rolesOf(usernames)
  const customers = usernames.filter((username) => roles.get(username) === 'customer')
  if (customers.length > 0) {
    const names = customers.join(', ')
    throw new Error(
      `ADMIN_USERNAMES lists ${names}, but ${customers.length === 1 ? 'that account is' : 'those accounts are'} not an administrator ` +
        '(signed up before being listed, or from before roles were stored): list another name, delete the account, ' +
        `or grant it deliberately with UPDATE users SET role = 'admin' WHERE id = '${customers[0]}' (README, Identity)`,
    )
  }
}
