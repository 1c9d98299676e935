// After signing in, the app follows `?next=` from the sign-in page's URL: anyone can write that
// into a link, so only a path of this site may be followed. A 401 sends the page to sign in with
// the way back in that parameter.
import t from 'tap'
import { returningHref, SIGN_IN_PATH, SIGN_UP_PATH, safeNextPath, signInRedirect } from '../src/return-path.js'

const ORIGIN = 'https://cinema.example'

t.test('a path of this site is followed, query and fragment kept', async (t) => {
  const cases: [string, string][] = [
    ['/', '/'],
    ['/users', '/users'],
    ['/showtimes?date=20151201&user=pam_beesly', '/showtimes?date=20151201&user=pam_beesly'],
    ['/bookings/dwight_schrute#suggested', '/bookings/dwight_schrute#suggested'],
    ['/bookings/a%2Fb', '/bookings/a%2Fb'],
    ['/movies/../users', '/users'],
  ]
  for (const [next, expected] of cases) {
    t.equal(safeNextPath(next, ORIGIN), expected, next)
  }
})

t.test('anything else leads home: another site, a scheme, no leading slash, nothing', async (t) => {
  for (const next of [
    undefined,
    null,
    '',
    'users',
    '//evil.example',
    '//evil.example/users',
    '/\\evil.example',
    '/\\/evil.example',
    '\\\\evil.example',
    // Browsers drop tabs and line breaks from URLs: these are `//evil.example`.
    '/\t/evil.example',
    '/\n/evil.example',
    '/\r\n/evil.example',
    // Dot segments that resolve to a path starting `//`, which a link reads as another host.
    '/..//evil.example',
    '/./..//evil.example/users',
    '/users/..//evil.example',
    'https://evil.example/',
    'https://cinema.example/users',
    'javascript:alert(1)',
    ' /users',
    'http:/evil.example',
  ]) {
    t.equal(safeNextPath(next, ORIGIN), '/', JSON.stringify(next))
  }
})

t.test('the sign-in and sign-up pages are not where signing in leads', async (t) => {
  t.equal(safeNextPath(SIGN_IN_PATH, ORIGIN), '/')
  t.equal(safeNextPath(`${SIGN_IN_PATH}?next=%2Fusers`, ORIGIN), '/')
  t.equal(safeNextPath(SIGN_UP_PATH, ORIGIN), '/')
  t.equal(safeNextPath('/sign-in-help', ORIGIN), '/sign-in-help', 'only those two pages')
})

t.test('links to sign in or up carry the page to come back to', async (t) => {
  t.equal(
    returningHref(SIGN_IN_PATH, '/showtimes?date=20151201'),
    '/sign-in?next=%2Fshowtimes%3Fdate%3D20151201',
    'path and query, encoded',
  )
  t.equal(returningHref(SIGN_UP_PATH, '/users'), '/sign-up?next=%2Fusers')
  t.equal(returningHref(SIGN_IN_PATH, '/'), '/sign-in', 'home is where it leads anyway')
  t.equal(returningHref(SIGN_IN_PATH, '/sign-up?next=%2Fusers'), '/sign-in', 'never back to a sign-in form')
  const here = '/bookings/pam_beesly?x=1&y=/\\'
  t.equal(
    safeNextPath(new URL(returningHref(SIGN_IN_PATH, here), ORIGIN).searchParams.get('next'), ORIGIN),
    here,
    'the sign-in page reads back the page it was sent from',
  )
})

t.test('a 401 sends the page to sign in and back, except from the sign-in and sign-up pages', async (t) => {
  t.equal(
    signInRedirect({ pathname: '/showtimes', search: '?date=20151201' }),
    '/sign-in?next=%2Fshowtimes%3Fdate%3D20151201',
  )
  t.equal(signInRedirect({ pathname: '/users', search: '' }), '/sign-in?next=%2Fusers')
  t.equal(signInRedirect({ pathname: '/', search: '' }), '/sign-in')
  t.equal(signInRedirect({ pathname: SIGN_IN_PATH, search: '?next=%2Fusers' }), undefined, 'already there')
  t.equal(signInRedirect({ pathname: SIGN_UP_PATH, search: '' }), undefined, 'signing up')
})
