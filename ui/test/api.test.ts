// The web app's words for a failed call come from the answer's `code` and `service`, never from
// matching the English of its message.
import t from 'tap'
import { describeFailure } from '../src/api.js'

t.test('an outage names the service, whatever the message says', async (t) => {
  const peerDown = { code: 'PEER_UNAVAILABLE', service: 'movies' }
  for (const message of [
    'movies service is unavailable',
    'movies service is unavailable (failing; calls paused briefly)',
    'movies service is unavailable (it answered 500)',
    'movies service has no /movies',
  ]) {
    t.equal(describeFailure(503, { ...peerDown, message }), 'The movies service is unavailable. Try again in a moment.')
  }
  t.equal(
    describeFailure(502, { message: 'gateway is unavailable', code: 'PEER_UNAVAILABLE', service: 'gateway' }),
    'The gateway is unavailable. Try again in a moment.',
  )
  t.equal(
    describeFailure(504, {
      message: 'users service did not answer within 3000 ms',
      code: 'PEER_TIMEOUT',
      service: 'users',
    }),
    'The users service is taking too long to answer. Try again in a moment.',
  )
  t.equal(
    describeFailure(502, {
      message: 'showtimes service refused /showtimes (400)',
      code: 'PEER_BAD_ANSWER',
      service: 'showtimes',
    }),
    'The showtimes service sent an answer that could not be used. Try again in a moment.',
  )
  t.equal(
    describeFailure(503, {
      message: 'the bookings database is unavailable; try again in a moment',
      code: 'DATABASE_UNAVAILABLE',
      service: 'bookings',
    }),
    'The bookings database is unavailable. Try again in a moment.',
  )
  t.equal(
    describeFailure(503, {
      message: 'the users service is overloaded; try again in 10 s',
      code: 'OVERLOADED',
      service: 'users',
    }),
    'The users service is too busy right now. Try again in a few seconds.',
  )
})

t.test('other errors are said in their own words; without any, by their status', async (t) => {
  t.equal(describeFailure(404, { message: 'user nobody not found', code: 'USER_NOT_FOUND' }), 'User nobody not found.')
  t.equal(
    describeFailure(503, { message: 'movies service is unavailable' }),
    'Movies service is unavailable.',
    'no code: the message, not a guess from its words',
  )
  t.equal(
    describeFailure(500, undefined),
    'The Cinema server answered with an error (HTTP 500). Try again in a moment.',
  )
})
