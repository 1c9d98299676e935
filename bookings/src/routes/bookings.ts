import { AUTH_RESPONSES, auditLog, BEARER_SECURITY, contracts, ErrorResponse, HttpError, securityOf } from '@cinema/kit'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { BookingRulesFor } from '../booking-rules.js'

const Booking = Type.Object({ username: contracts.Username, date: contracts.ShowDate, movie_id: contracts.MovieId })
const BookingParams = Type.Object({
  username: contracts.Username,
  date: contracts.ShowDate,
  movieId: contracts.MovieId,
})

export const bookingRoutes: FastifyPluginAsyncTypebox<{ rulesFor: BookingRulesFor }> = async (
  fastify,
  { rulesFor },
) => {
  const { guard } = fastify
  const readResponses = guard.privateReads ? AUTH_RESPONSES : {}

  fastify.get(
    '/bookings',
    {
      schema: {
        operationId: 'listBookings',
        tags: ['bookings'],
        summary: 'Every user’s bookings, keyed by username',
        description: 'With PRIVATE_READS a customer gets only their own.',
        ...securityOf(guard.privateReads),
        response: { 200: contracts.AllBookings, ...readResponses, 503: ErrorResponse },
      },
    },
    async (request) => {
      const onlyVisible = await guard.onlyVisibleTo(request)
      if (onlyVisible === undefined) return fastify.bookings.all()
      const own = await fastify.bookings.forUser(onlyVisible)
      return own ? { [onlyVisible]: own } : {}
    },
  )

  fastify.get(
    '/bookings/:username',
    {
      schema: {
        operationId: 'getUserBookings',
        tags: ['bookings'],
        summary: 'One user’s bookings: movie ids keyed by date',
        params: Type.Object({ username: contracts.Username }),
        ...securityOf(guard.privateReads),
        response: { 200: contracts.UserBookings, ...readResponses, 404: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request) => {
      await guard.requireReading(request, request.params.username)
      const bookings = await fastify.bookings.forUser(request.params.username)
      if (!bookings)
        throw new HttpError(404, `no bookings for ${request.params.username}`, { code: 'BOOKING_NOT_FOUND' })
      return bookings
    },
  )

  fastify.put(
    '/bookings/:username/:date/:movieId',
    {
      schema: {
        operationId: 'book',
        tags: ['bookings'],
        summary: 'Book a movie on a date for a user (idempotent)',
        description:
          '201 when the booking is new, 200 when it already existed. Any body is ignored. The user themselves or an admin.',
        security: BEARER_SECURITY,
        params: BookingParams,
        response: {
          200: Booking,
          201: Booking,
          400: ErrorResponse,
          ...AUTH_RESPONSES,
          404: ErrorResponse,
          422: ErrorResponse,
          503: ErrorResponse,
          504: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const { username, date, movieId } = request.params
      const caller = await guard.requireActingFor(request, username)
      const rules = rulesFor(request)
      await rules.assertPlaying(date, movieId)
      // Written first, checked after (docs/architecture.md, "Deleting a user while they book"): a
      // deletion of the user that asks for their bookings after this write sees it and is refused;
      // one that asked before had already marked the user, and the check below sees the mark.
      const reservedId = await fastify.bookings.reserve(username, date, movieId)
      try {
        await rules.assertUserExists(username)
      } catch (error) {
        // Only the row this request wrote, and only while unconfirmed: no acknowledged booking goes.
        if (reservedId !== undefined) await fastify.bookings.withdraw(reservedId)
        throw error
      }
      // Confirmed by whichever request for this booking checked its user; gone meanwhile (another
      // request withdrew it, a cancel) means nothing to acknowledge.
      if (!(await fastify.bookings.confirm(username, date, movieId)))
        throw new HttpError(503, 'the booking was withdrawn while it was being made; try again', {
          code: 'BOOKING_WITHDRAWN',
          headers: { 'retry-after': '1' },
          expose: true,
        })
      const created = reservedId !== undefined
      auditLog(
        request,
        caller.username,
        created ? `book ${movieId} on ${date}` : `book ${movieId} on ${date} (already booked)`,
        username,
      )
      if (created) reply.header('location', `/bookings/${encodeURIComponent(username)}`)
      return reply.code(created ? 201 : 200).send({ username, date, movie_id: movieId })
    },
  )

  fastify.delete(
    '/bookings/:username/:date/:movieId',
    {
      schema: {
        operationId: 'cancelBooking',
        tags: ['bookings'],
        summary: 'Cancel a booking',
        description: 'The user themselves or an admin.',
        security: BEARER_SECURITY,
        params: BookingParams,
        response: {
          204: Type.Null({ description: 'cancelled' }),
          400: ErrorResponse,
          ...AUTH_RESPONSES,
          404: ErrorResponse,
          503: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const { username, date, movieId } = request.params
      const caller = await guard.requireActingFor(request, username)
      const removed = await fastify.bookings.remove(username, date, movieId)
      if (!removed)
        throw new HttpError(404, `${username} has no booking of ${movieId} on ${date}`, {
          code: 'BOOKING_NOT_FOUND',
        })
      auditLog(request, caller.username, `cancel ${movieId} on ${date}`, username)
      return reply.code(204).send(null)
    },
  )
}
