import { contracts, ErrorResponse, HttpError, type PeerClient } from '@cinema/kit'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'

const UsernameParams = Type.Object({ username: contracts.Username })
const Name = Type.String({ minLength: 1, maxLength: 100, description: 'the name shown for the user' })

// What shows nothing on its own: white space, format and other default-ignorable characters
// (zero-width space and joiners, U+2060, U+FEFF, Hangul fillers, variation selectors), combining
// marks with no letter to sit on, the blank Braille pattern and the blank musical null notehead,
// unassigned code points and noncharacters (nothing to show, or a box where a font has no glyph).
// A name needs a character besides these.
const VISIBLE = /[^\p{White_Space}\p{Default_Ignorable_Code_Point}\p{Cf}\p{Cc}\p{Cn}\p{M}\u2800\u{1D159}]/u

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

export const userRoutes: FastifyPluginAsyncTypebox<{ bookings: PeerClient }> = async (fastify, { bookings }) => {
  fastify.get(
    '/users',
    {
      schema: {
        operationId: 'listUsers',
        tags: ['users'],
        summary: 'Every user, keyed by username',
        response: { 200: contracts.UserCollection, 503: ErrorResponse },
      },
    },
    async () => fastify.users.all(),
  )

  fastify.get(
    '/users/:username',
    {
      schema: {
        operationId: 'getUser',
        tags: ['users'],
        summary: 'One user',
        params: UsernameParams,
        response: { 200: contracts.User, 404: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request) => {
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
        summary: 'Create a user (last_active is set to now)',
        body: Type.Object({ id: contracts.UserId, name: Name }, { additionalProperties: false }),
        response: { 201: contracts.User, 400: ErrorResponse, 409: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request, reply) => {
      const { id } = request.body
      const user = await fastify.users.create(id, nonBlank(request.body.name))
      if (!user) throw new HttpError(409, `user id ${id} is already taken`, { code: 'USER_EXISTS' })
      return reply.code(201).header('location', `/users/${id}`).send(user)
    },
  )

  fastify.patch(
    '/users/:username',
    {
      schema: {
        operationId: 'renameUser',
        tags: ['users'],
        summary: 'Rename a user',
        params: UsernameParams,
        body: Type.Object({ name: Name }, { additionalProperties: false }),
        response: { 200: contracts.User, 400: ErrorResponse, 404: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request) => {
      const user = await fastify.users.rename(request.params.username, nonBlank(request.body.name))
      if (!user) throw new HttpError(404, `user ${request.params.username} not found`, { code: 'USER_NOT_FOUND' })
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
        params: UsernameParams,
        response: {
          204: Type.Null({ description: 'deleted' }),
          404: ErrorResponse,
          409: ErrorResponse,
          503: ErrorResponse,
          504: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const { username } = request.params
      if (!(await fastify.users.byId(username)))
        throw new HttpError(404, `user ${username} not found`, { code: 'USER_NOT_FOUND' })
      const booked = await bookings
        .onBehalfOf(request)
        .getJson<contracts.UserBookings>(`/bookings/${encodeURIComponent(username)}`)
      if (booked) {
        const count = Object.values(booked).flat().length
        throw new HttpError(409, `${username} still has ${count} booking${count === 1 ? '' : 's'}; cancel them first`, {
          code: 'USER_HAS_BOOKINGS',
        })
      }
      await fastify.users.remove(username)
      return reply.code(204).send(null)
    },
  )
}
