import { HttpError } from '@cinema/kit'
import t from 'tap'
import { forKnownUser } from '../src/known-user.js'

const USER = { id: 'pam_beesly', name: 'Pam Beesly', last_active: 1360031225 }
const users = { byId: async (id: string) => (id === USER.id ? USER : undefined) }
const peerDown = () =>
  Promise.reject(new HttpError(503, 'movies service is unavailable', { code: 'PEER_UNAVAILABLE', service: 'movies' }))

t.test('a known user: the lookups’ answer', async (t) => {
  t.equal(await forKnownUser(users, 'pam_beesly', Promise.resolve('peer answer')), 'peer answer')
})

t.test('a known user whose lookups fail: their failure', async (t) => {
  await t.rejects(forKnownUser(users, 'pam_beesly', peerDown()), {
    statusCode: 503,
    message: 'movies service is unavailable',
  })
})

t.test('an unknown user: 404, whatever the lookups answered', async (t) => {
  await t.rejects(forKnownUser(users, 'nobody', Promise.resolve('peer answer')), {
    statusCode: 404,
    message: 'user nobody not found',
    code: 'USER_NOT_FOUND',
  })
  await t.rejects(
    forKnownUser(users, 'nobody', peerDown()),
    { statusCode: 404, message: 'user nobody not found' },
    'not the peer’s 503',
  )
})

t.test('the user lookup itself fails: its error', async (t) => {
  const broken = { byId: () => Promise.reject(new Error('database is unavailable')) }
  await t.rejects(forKnownUser(broken, 'pam_beesly', Promise.resolve('peer answer')), {
    message: 'database is unavailable',
  })
})
