import {
  AUTH_RESPONSES,
  auditLog,
  BEARER_SECURITY,
  type Caller,
  contracts,
  ErrorResponse,
  HttpError,
  type PeerClient,
  ROLES,
  securityOf,
} from '@cinema/kit'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { Accounts } from '../accounts.js'

const UsernameParams = Type.Object({ username: contracts.Username })
const Name = Type.String({ minLength: 1, maxLength: 100, description: 'the name shown for the user' })
const Role = Type.Union(
  ROLES.map((role) => Type.Literal(role)),
  { description: 'customer: their own things; admin: anyone’s. Only an admin may set it' },
)
export const Password = Type.String({
  minLength: 10,
  maxLength: 128,
  description: '10 to 128 characters; stored only as a salted argon2id hash, never shown',
})

// What shows nothing on its own: white space, format and other default-ignorable characters
// (zero-width space and joiners, U+2060, U+FEFF, Hangul fillers, variation selectors), combining
// marks with no letter to sit on, the blank Braille pattern and the blank musical null notehead,
// unassigned code points and noncharacters (nothing to show, or a box where a font has no glyph).
// A name needs a character besides these.
const VISIBLE = /[^\p{White_Space}\p{Default_Ignorable_Code_Point}\p{Cf}\p{Cc}\p{Cn}\p{M}\u2800\u{1D159}]/u

/** The password as given; 400 when it is nothing but white space. */
function acceptablePassword(password: string, field: string): string {
  if (!password.trim()) throw new HttpError(400, `${field} must not be only white space`, { code: 'VALIDATION_FAILED' })
  return password
}

/** The name trimmed; 400 when nothing of it would show. */
function nonBlank(name: string): string {
  const trimmed = name.trim()
  if (!trimmed) throw new HttpError(400, 'body/name must not be blank', { code: 'VALIDATION_FAILED' })
  if (!VISIBLE.test(trimmed))
    throw new HttpError(400, 'body/name must not be blank: it has no visible character', {
      code: 'VALIDATION_FAILED',
    })
  return trimmed
}

export const userRoutes: FastifyPluginAsyncTypebox<{ bookings: PeerClient; accounts: Accounts }> = async (
  fastify,
  { bookings, accounts },
) => {
  const { guard } = fastify

  /**
   * 400 without `currentPassword` (needed "to `purpose`"), 403 when it is not `username`'s
   * (counted as a failed sign-in, audited as `action` refused): what a stolen token alone cannot pass.
   */
  async function requireOwnPassword(
    request: FastifyRequest,
    actor: string,
    username: string,
    currentPassword: string | undefined,
    { purpose, action }: { purpose: string; action: string },
  ): Promise<void> {
    if (currentPassword === undefined) {
      throw new HttpError(400, `body/current_password is needed to ${purpose}`, { code: 'VALIDATION_FAILED' })
    }
    if (!(await accounts.isPasswordOf(username, currentPassword))) {
      auditLog(request, actor, `${action} refused: wrong current password`, username)
      throw new HttpError(403, 'the current password is wrong', { code: 'WRONG_PASSWORD' })
    }
  }
  /**
   * 403 unless the caller is still an administrator by the stored role: a token says what the
   * account was when it was issued (up to an hour ago), and a revoked or deleted administrator's
   * tokens must not keep the power, nor restore it.
   */
  async function requireStoredAdmin(caller: Caller): Promise<void> {
    const roles = await fastify.users.rolesOf([caller.username])
    if (roles.get(caller.username) !== 'admin') {
      throw new HttpError(403, `${caller.username} is no longer an administrator`, { code: 'FORBIDDEN' })
    }
  }
  const readResponses = guard.privateReads ? AUTH_RESPONSES : {}

  fastify.get(
    '/users',
    {
      schema: {
        operationId: 'listUsers',
        tags: ['users'],
        summary: 'Every user, keyed by username',
        description: 'With PRIVATE_READS a customer gets only themselves.',
        ...securityOf(guard.privateReads),
        response: { 200: contracts.UserCollection, ...readResponses, 503: ErrorResponse },
      },
    },
    async (request) => {
      const onlyVisible = await guard.onlyVisibleTo(request)
      if (onlyVisible === undefined) return fastify.users.all()
      const own = await fastify.users.byId(onlyVisible)
      return own ? { [own.id]: own } : {}
    },
  )

  fastify.get(
    '/users/:username',
    {
      schema: {
        operationId: 'getUser',
        tags: ['users'],
        summary: 'One user',
        params: UsernameParams,
        ...securityOf(guard.privateReads),
        response: { 200: contracts.User, ...readResponses, 404: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request) => {
      await guard.requireReading(request, request.params.username)
      const user = await fastify.users.byId(request.params.username)
      if (!user) throw new HttpError(404, `user ${request.params.username} not found`, { code: 'USER_NOT_FOUND' })
      return user
    },
  )

  fastify.post(
    '/users',
    {
      schema: {
        operationId: 'createUser',
        tags: ['users'],
        summary: 'Sign up: create a user with a password (last_active is set to now)',
        description:
          'Open to anyone, as a customer. A username kept for an administrator (ADMIN_USERNAMES) is refused unless an admin asks; it is then created as an administrator.',
        body: Type.Object({ id: contracts.UserId, name: Name, password: Password }, { additionalProperties: false }),
        response: {
          201: contracts.User,
          400: ErrorResponse,
          401: ErrorResponse,
          409: ErrorResponse,
          429: ErrorResponse,
          503: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.body
      const name = nonBlank(request.body.name)
      const password = acceptablePassword(request.body.password, 'body/password')
      const caller = await guard.callerOf(request)
      const reserved = accounts.isReservedForAdmin(id)
      if (reserved && caller?.role !== 'admin') {
        throw new HttpError(409, `user id ${id} is reserved`, { code: 'USER_ID_RESERVED' })
      }
      if (reserved && caller) await requireStoredAdmin(caller)
      // A listed name an admin creates is the administrator it is kept for (and must be one at the next start).
      const user = await fastify.users.create(
        id,
        name,
        await accounts.hashPassword(password),
        reserved ? 'admin' : 'customer',
      )
      if (!user) throw new HttpError(409, `user id ${id} is already taken`, { code: 'USER_EXISTS' })
      auditLog(request, caller?.username ?? id, 'create user', id)
      return reply.code(201).header('location', `/users/${id}`).send(user)
    },
  )

  fastify.patch(
    '/users/:username',
    {
      schema: {
        operationId: 'updateUser',
        tags: ['users'],
        summary: 'Rename a user, set their password, or grant or revoke the admin role',
        description:
          'The user themselves or an admin. Setting one’s own new password takes the current one too (an admin setting someone else’s does not); wrong ones count as failed sign-ins. Only an admin may set `role` (403 otherwise); it shows in tokens issued after the change. 409 when it would revoke the last admin (`LAST_ADMIN`) or a name listed in ADMIN_USERNAMES (`ADMIN_LISTED`: the service would refuse to start).',
        security: BEARER_SECURITY,
        params: UsernameParams,
        body: Type.Object(
          {
            name: Type.Optional(Name),
            password: Type.Optional(Password),
            current_password: Type.Optional(
              Type.String({ maxLength: 128, description: 'the password being replaced' }),
            ),
            role: Type.Optional(Role),
          },
          { additionalProperties: false },
        ),
        response: {
          200: contracts.User,
          400: ErrorResponse,
          ...AUTH_RESPONSES,
          404: ErrorResponse,
          409: ErrorResponse,
          429: ErrorResponse,
          503: ErrorResponse,
        },
      },
    },
    async (request) => {
      const { username } = request.params
      const caller = await guard.requireActingFor(request, username)
      const { current_password: currentPassword, role } = request.body
      if (request.body.name === undefined && request.body.password === undefined && role === undefined) {
        throw new HttpError(400, 'body must have name, password or role', { code: 'VALIDATION_FAILED' })
      }
      if (role !== undefined && caller.role !== 'admin') {
        throw new HttpError(403, `${caller.username} may not change roles: only an admin may`, { code: 'FORBIDDEN' })
      }
      if (role !== undefined || caller.username !== username) await requireStoredAdmin(caller)
      if (role === 'customer' && accounts.isReservedForAdmin(username)) {
        throw new HttpError(409, `${username} is listed in ADMIN_USERNAMES; take it out of the list first`, {
          code: 'ADMIN_LISTED',
        })
      }
      const name = request.body.name === undefined ? undefined : nonBlank(request.body.name)
      const password =
        request.body.password === undefined ? undefined : acceptablePassword(request.body.password, 'body/password')
      // Only an admin changing someone else's password skips the current one: a stolen token of
      // anyone, admins included, must not be enough to take the account over for good.
      if (password !== undefined && (caller.role !== 'admin' || caller.username === username)) {
        await requireOwnPassword(request, caller.username, username, currentPassword, {
          purpose: 'set a new password',
          action: 'change password',
        })
      }
      const passwordHash = password === undefined ? undefined : await accounts.hashPassword(password)
      const user = await fastify.users.update(username, { name, passwordHash, role })
      if (!user) {
        if (role === 'customer' && (await fastify.users.byId(username))) {
          throw new HttpError(409, `${username} is the last admin; grant the role to someone else first`, {
            code: 'LAST_ADMIN',
          })
        }
        throw new HttpError(404, `user ${username} not found`, { code: 'USER_NOT_FOUND' })
      }
      const changed = [
        name !== undefined && 'name',
        passwordHash !== undefined && 'password',
        role !== undefined && `role to ${role}`,
      ].filter(Boolean)
      auditLog(request, caller.username, `change ${changed.join(' and ')}`, username)
      return user
    },
  )

  fastify.delete(
    '/users/:username',
    {
      schema: {
        operationId: 'deleteUser',
        tags: ['users'],
        summary: 'Delete a user who has no bookings',
        description:
          'The user themselves or an admin. Deleting one’s own account takes the current password (`{"current_password"}`), an admin’s own included: a stolen token is not enough. An admin deleting someone else sends no body. A wrong password is a 403 `WRONG_PASSWORD` and counts as a failed sign-in.',
        security: BEARER_SECURITY,
        params: UsernameParams,
        body: Type.Optional(
          Type.Object(
            { current_password: Type.String({ maxLength: 128, description: 'the password of the account deleted' }) },
            { additionalProperties: false },
          ),
        ),
        response: {
          204: Type.Null({ description: 'deleted' }),
          400: ErrorResponse,
          ...AUTH_RESPONSES,
          404: ErrorResponse,
          409: ErrorResponse,
          429: ErrorResponse,
          503: ErrorResponse,
          504: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const { username } = request.params
      const caller = await guard.requireActingFor(request, username)
      if (caller.role !== 'admin' || caller.username === username) {
        await requireOwnPassword(request, caller.username, username, request.body?.current_password, {
          purpose: 'delete one’s own account',
          action: 'delete user',
        })
      } else await requireStoredAdmin(caller)
      // As for revoking the role: the system keeps an administrator, and the one it is told to keep.
      if (accounts.isReservedForAdmin(username)) {
        throw new HttpError(409, `${username} is listed in ADMIN_USERNAMES; take it out of the list first`, {
          code: 'ADMIN_LISTED',
        })
      }
      // Marked before the bookings are asked for (docs/architecture.md, "Deleting a user while they
      // book"): a booking written before the question is in the answer; one written after checks
      // the user afterwards, finds them marked, and is withdrawn. A user being deleted reads as absent.
      const deletionId = await fastify.users.beginDeletion(username)
      if (!deletionId) throw new HttpError(404, `user ${username} not found`, { code: 'USER_NOT_FOUND' })
      if (deletionId === 'last admin') {
        throw new HttpError(409, `${username} is the last admin; grant the role to someone else first`, {
          code: 'LAST_ADMIN',
        })
      }
      let booked: contracts.UserBookings | undefined
      try {
        booked = await bookings
          .onBehalfOf(request)
          .getJson<contracts.UserBookings>(`/bookings/${encodeURIComponent(username)}`)
      } catch (error) {
        await fastify.users.abandonDeletion(username, deletionId)
        throw error
      }
      if (booked) {
        await fastify.users.abandonDeletion(username, deletionId)
        const count = Object.values(booked).flat().length
        throw new HttpError(409, `${username} still has ${count} booking${count === 1 ? '' : 's'}; cancel them first`, {
          code: 'USER_HAS_BOOKINGS',
        })
      }
      if (!(await fastify.users.remove(username, deletionId))) {
        // The mark outlived its deadline (a very slow answer): bookings may have been confirmed since.
        await fastify.users.abandonDeletion(username, deletionId)
        throw new HttpError(503, `deleting ${username} took too long; try again`, {
          code: 'DELETION_EXPIRED',
          headers: { 'retry-after': '1' },
          expose: true,
        })
      }
      auditLog(request, caller.username, 'delete user', username)
      return reply.code(204).send(null)
    },
  )
}
