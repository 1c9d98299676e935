// The UI in Chromium against the whole system, as a person would use it: `npm run test:browser`
// (needs Chromium on PATH, e.g. Debian's `apt-get install -y chromium`; `npm test` leaves it out).
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { isDeepStrictEqual } from 'node:util'
import type { Page } from 'playwright-core'
import t, { type Test } from 'tap'
import { eventually } from '../../test/helpers/eventually.js'
import { startSystem } from '../../test/helpers/system.js'
import { horizontalOverflow, launchChromium, openPage, seriousViolations, settled, shows } from './helpers/browser.js'

const SCREENSHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
const PAGES = [
  '/',
  '/movies',
  '/showtimes?date=20151201',
  '/users',
  '/bookings/dwight_schrute',
  '/sign-in?next=%2Fusers',
  '/sign-up',
]
/** What the seeded users sign in with in demo mode (`npm start` turns it on); michael_scott is the demo admin. */
const DEMO_PASSWORD = 'cinema-demo'
const ADMIN = 'michael_scott'
/**
 * How long to wait for what the dashboard learns from the gateway's /status, which it asks every
 * 5 s: a probe slowed by a busy machine reads as Down until the next poll, so allow several polls.
 */
const POLLED_WAIT_MS = 20_000

t.setTimeout(300_000)
const browser = await launchChromium()
t.teardown(() => browser.close())
const system = await startSystem()
t.teardown(() => system.close())
const ui = system.url('ui')

/** What any page had refused by the Content-Security-Policy; checked once all pages ran. */
const cspViolations: string[] = []

/** Opens `path` in its own browser context, closed when the test `t` ends. */
async function open(t: Test, path: string, width?: number) {
  const opened = await openPage(browser, `${ui}${path}`, width)
  t.teardown(async () => {
    cspViolations.push(...opened.cspViolations.map((violation) => `${path}: ${violation}`))
    await opened.close()
  })
  return opened.page
}

/** Resolves once the page shows `path` (path and query, exactly). */
function arrivedAt(page: Page, path: string) {
  return page.waitForURL((url) => `${url.pathname}${url.search}` === path)
}

/** Fills in and sends the sign-in form the page shows. */
async function signIn(page: Page, username: string, password = DEMO_PASSWORD) {
  const form = page.getByRole('form', { name: 'Sign in' })
  await form.getByLabel('Username', { exact: true }).fill(username)
  await form.getByLabel('Password', { exact: true }).fill(password)
  await form.getByRole('button', { name: 'Sign in' }).click()
}

/** Opens `path` signed in as `username`: through the sign-in page, which leads there afterwards. */
async function openSignedIn(t: Test, path: string, username: string, password = DEMO_PASSWORD) {
  const page = await open(t, `/sign-in?next=${encodeURIComponent(path)}`)
  // The page's own session check has answered (signed out), so its answer cannot land after signing in.
  await page.getByRole('banner').getByRole('link', { name: 'Sign in' }).waitFor()
  await signIn(page, username, password)
  await arrivedAt(page, path)
  return page
}

/** Creates an account through the API, as the sign-up page does. */
async function createAccount(page: Page, id: string, name: string, password: string) {
  const response = await page.request.post(`${ui}/api/users`, {
    data: { id, name, password },
    headers: { 'x-requested-with': 'cinema' },
  })
  if (response.status() !== 201) throw new Error(`creating ${id}: ${response.status()} ${await response.text()}`)
}

const sessionCookie = async (page: Page) =>
  (await page.context().cookies()).find((cookie) => cookie.name === 'cinema_session')

t.test('the dashboard shows all five services up, with response times and counts', async (t) => {
  const page = await open(t, '/')
  t.ok(await shows(page.getByText('All 5 services are up.'), POLLED_WAIT_MS), 'summary says all are up')
  for (const name of ['Gateway', 'Users', 'Movies', 'Showtimes', 'Bookings']) {
    const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name, exact: true }) })
    t.ok(await shows(card.getByText('Up', { exact: true }), POLLED_WAIT_MS), `${name} is up`)
    t.match(await card.textContent(), /\d+(\.\d)? ms/, `${name} shows its response time`)
  }
  for (const count of ['7 Movies', '6 Show dates', '7 Users', '7 Bookings']) {
    t.ok(await shows(page.getByRole('link', { name: count })), count)
  }
  mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: `${SCREENSHOTS}dashboard.png`, fullPage: true })
})

t.test('movies: ratings as bars and numbers, directors, play dates, sorting and filtering', async (t) => {
  const page = await open(t, '/movies')
  const creed = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Creed' }) })
  t.ok(await shows(creed.getByText('8.8')), 'Creed rated 8.8')
  t.ok(await shows(creed.getByText('Directed by Ryan Coogler')), 'its director')
  t.ok(await shows(creed.getByRole('link', { name: 'Tue, Dec 1' })), 'the date it plays, linked')
  const [fill, bar] = await Promise.all([
    creed.locator('.rating-fill').boundingBox(),
    creed.locator('.rating-bar').boundingBox(),
  ])
  t.ok(fill && bar && Math.abs(fill.width / bar.width - 0.88) < 0.02, 'the bar is 88% full')

  const titles = () => page.getByRole('heading', { level: 2 }).allTextContents()
  /** The titles once they are `want` (read again for up to 5 s), else as they are then, for the diff. */
  const titlesOnceThey = (want: (now: string[]) => boolean) => eventually(titles, want)
  const lowest = 'The Danish Girl'
  t.same(
    (await titlesOnceThey((now) => now.at(-1) === lowest)).at(-1),
    lowest,
    'by rating, the lowest (5.3) comes last',
  )
  await page.getByLabel('Sort by').selectOption({ label: 'Title, A to Z' })
  const aToZ = [
    'Creed',
    'Spectre',
    'The Danish Girl',
    'The Good Dinosaur',
    'The Martian',
    'The Night Before',
    'Victor Frankenstein',
  ]
  t.same(await titlesOnceThey((now) => isDeepStrictEqual(now, aToZ)), aToZ)
  await page.getByLabel('Find a title or director').fill('ridley')
  const found = ['The Martian']
  t.same(await titlesOnceThey((now) => isDeepStrictEqual(now, found)), found, 'a director finds their movie')
  t.ok(await shows(page.getByText('1 movie of 7 match “ridley”.')), 'the count says so')

  await page.getByLabel('Find a title or director').fill('zzz')
  t.ok(await shows(page.getByText('No movie matches')), 'no match is said, not left blank')
})

t.test('sign up, sign out, sign in: the header says who you are', async (t) => {
  const page = await open(t, '/users')
  const header = page.getByRole('banner')
  t.ok(await shows(header.getByRole('link', { name: 'Sign in' })), 'signed out, the header offers to sign in')
  await header.getByRole('link', { name: 'Sign up' }).click()
  await arrivedAt(page, '/sign-up')

  const form = page.getByRole('form', { name: 'Sign up' })
  t.ok(await shows(form.getByText('10 to 128 characters.')), 'the password rule is shown')
  await form.getByLabel('Username', { exact: true }).fill('ursula_k')
  await form.getByLabel('Name', { exact: true }).fill('Ursula K')
  await form.getByLabel('Password', { exact: true }).fill('too short')
  await form.getByRole('button', { name: 'Sign up' }).click()
  t.ok(
    await shows(form.getByRole('alert').getByText('The password is too short: it needs at least 10 characters.')),
    'a short password is refused, saying why',
  )
  await form.getByLabel('Password', { exact: true }).fill('the left hand of darkness')
  await form.getByRole('button', { name: 'Sign up' }).click()
  await arrivedAt(page, '/bookings/ursula_k')
  t.ok(await shows(page.getByRole('heading', { name: 'Ursula K’s bookings', level: 1 })), 'signed up, on her bookings')
  t.ok(await shows(header.getByText('Signed in as Ursula K')), 'and signed in')
  t.ok(await shows(header.getByRole('button', { name: 'Sign out' })))

  const cookie = await sessionCookie(page)
  t.match(
    cookie,
    { httpOnly: true, sameSite: 'Strict', path: '/' },
    'the session is an HttpOnly, SameSite=Strict cookie',
  )
  t.notMatch(await page.evaluate(() => document.cookie), /cinema_session/, 'that page scripts cannot read')

  await header.getByRole('button', { name: 'Sign out' }).click()
  t.ok(await shows(header.getByText('You have signed out.')), 'signed out, in words')
  t.ok(await shows(header.getByRole('link', { name: 'Sign in' })), 'the header offers to sign in again')
  const focusOnSignIn = page.waitForFunction(() => document.activeElement?.textContent === 'Sign in', undefined, {
    timeout: 5_000,
  })
  t.ok(
    await focusOnSignIn.then(
      () => true,
      () => false,
    ),
    'focus went to Sign in, which took Sign out’s place',
  )
  t.notOk(await sessionCookie(page), 'the cookie is gone')
  const suggestion = page.getByRole('region', { name: 'Suggested for Ursula K' })
  t.ok(await shows(suggestion.getByRole('link', { name: /^Sign in to book/ })), 'booking now invites signing in')
  t.equal(await suggestion.getByRole('button', { name: /^Book/ }).count(), 0, 'instead of Book')

  await header.getByRole('link', { name: 'Sign in' }).click()
  await arrivedAt(page, '/sign-in?next=%2Fbookings%2Fursula_k')
  await signIn(page, 'ursula_k', 'not her password')
  t.ok(await shows(page.getByRole('alert').getByText('Wrong username or password.')), 'a wrong password is said')
  await signIn(page, 'ursula_k', 'the left hand of darkness')
  await arrivedAt(page, '/bookings/ursula_k')
  t.pass('signing in leads back to the page it was asked from')
  t.ok(await shows(header.getByText('Signed in as Ursula K')))

  const taken = await open(t, '/sign-up')
  const again = taken.getByRole('form', { name: 'Sign up' })
  await again.getByLabel('Username', { exact: true }).fill('pam_beesly')
  await again.getByLabel('Name', { exact: true }).fill('Another Pam')
  await again.getByLabel('Password', { exact: true }).fill('a long enough password')
  await again.getByRole('button', { name: 'Sign up' }).click()
  t.ok(await shows(again.getByRole('alert').getByText('The username “pam_beesly” is taken.')), 'a taken username')
})

t.test('signing in follows ?next= only to a page of this site', async (t) => {
  for (const next of ['//evil.example/', '/\\evil.example/', 'https://evil.example/', '/\t/evil.example']) {
    const page = await open(t, `/sign-in?next=${encodeURIComponent(next)}`)
    await signIn(page, 'jim_halpert')
    await arrivedAt(page, '/')
    t.pass(`${next}: home instead`)
  }
})

t.test('showtimes: every date one click away; signed in, a customer books for themselves', async (t) => {
  const page = await open(t, '/showtimes')
  t.ok(await shows(page.getByRole('heading', { name: 'Playing on Mon, Nov 30, 2015' })), 'the first date at first')
  await page.getByRole('navigation', { name: 'Show dates' }).getByRole('link', { name: 'Tue, Dec 1' }).click()
  t.ok(await shows(page.getByRole('heading', { name: 'Playing on Tue, Dec 1, 2015' })), 'the chosen date')
  const creed = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: /^Creed/ }) })
  t.ok(await shows(creed.getByText('8.8')), 'Creed plays, rated 8.8')
  t.match(page.url(), /\/showtimes\?date=20151201$/)
  await page.reload()
  t.ok(await shows(creed.getByText('8.8')), 'a reload keeps the date')

  const signInToBook = creed.getByRole('link', { name: 'Sign in to book Creed' })
  t.ok(await shows(signInToBook), 'signed out, Book invites signing in')
  t.equal(await creed.getByRole('button', { name: 'Book Creed' }).count(), 0, 'instead of a Book button')
  await signInToBook.click()
  await arrivedAt(page, '/sign-in?next=%2Fshowtimes%3Fdate%3D20151201')
  await signIn(page, 'pam_beesly')
  await arrivedAt(page, '/showtimes?date=20151201')
  t.ok(await shows(page.getByRole('banner').getByText('Signed in as Pam Beesly')), 'back, signed in')
  t.equal(
    await page.getByLabel('Book for', { exact: true }).count(),
    0,
    'a customer chooses no one: she books for herself',
  )

  await creed.getByRole('button', { name: 'Book Creed' }).click()
  t.ok(await shows(page.getByText('Booked Creed for you on Tue, Dec 1, 2015.')), 'booked, in words')
  t.ok(await shows(creed.getByText('Booked', { exact: true })), 'the movie is marked booked')
  await creed.getByRole('button', { name: 'Book Creed' }).click()
  t.ok(await shows(page.getByText('You already had Creed booked on Tue, Dec 1, 2015.')), 'booking twice is fine')

  await page.getByRole('link', { name: 'See your bookings' }).click()
  await arrivedAt(page, '/bookings/pam_beesly')
  const day = page.getByRole('region', { name: 'Tue, Dec 1, 2015' })
  t.ok(await shows(day.getByText('Creed')), 'the booking is on her page')
  await day.getByRole('button', { name: 'Cancel Creed on Tue, Dec 1, 2015' }).click()
  t.ok(await shows(page.getByText('Cancelled Creed on Tue, Dec 1, 2015.')), 'cancelled, in words')
  t.ok(await shows(page.getByText('No bookings yet.')), 'and gone from her bookings')
})

t.test('an admin books and cancels for a user they choose', async (t) => {
  const page = await openSignedIn(t, '/showtimes?date=20151201', ADMIN)
  t.ok(await shows(page.getByRole('banner').getByText('Signed in as Michael Scott (admin)')), 'the header says admin')
  const creed = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: /^Creed/ }) })
  await creed.getByRole('button', { name: 'Book Creed' }).click()
  t.ok(await shows(page.getByRole('alert').getByText('Choose who the booking is for first')), 'asks for whom')

  await page.getByLabel('Book for', { exact: true }).selectOption({ label: 'Pam Beesly (pam_beesly)' })
  await creed.getByRole('button', { name: 'Book Creed' }).click()
  t.ok(await shows(page.getByText('Booked Creed for Pam Beesly on Tue, Dec 1, 2015.')), 'booked for her')
  t.ok(await shows(creed.getByText('Booked for Pam Beesly')), 'the movie is marked booked for her')

  await page.getByRole('link', { name: 'See Pam Beesly’s bookings' }).click()
  const day = page.getByRole('region', { name: 'Tue, Dec 1, 2015' })
  await day.getByRole('button', { name: 'Cancel Creed on Tue, Dec 1, 2015' }).click()
  t.ok(await shows(page.getByText('Cancelled Creed on Tue, Dec 1, 2015.')), 'and cancelled for her')
})

t.test('a user’s bookings: by date, with suggestions to book', async (t) => {
  const page = await openSignedIn(t, '/bookings/dwight_schrute', 'dwight_schrute')
  t.ok(await shows(page.getByRole('heading', { name: 'Dwight Schrute’s bookings', level: 1 })))
  const december5 = page.getByRole('region', { name: 'Sat, Dec 5, 2015' })
  t.ok(await shows(december5.getByText('The Martian')), 'The Martian on Dec 5')
  t.ok(await shows(december5.getByText('8.2')), 'with its rating')
  const suggested = page.getByRole('region', { name: 'Suggested for Dwight Schrute' })
  const dinosaur = suggested.getByRole('listitem').filter({ hasText: 'The Good Dinosaur' })
  t.ok(await shows(dinosaur), 'The Good Dinosaur is suggested')

  await dinosaur.getByLabel('Date for The Good Dinosaur').selectOption({ label: 'Thu, Dec 3, 2015' })
  await dinosaur.getByRole('button', { name: 'Book The Good Dinosaur' }).click()
  t.ok(await shows(page.getByText('Booked The Good Dinosaur on Thu, Dec 3, 2015.')), 'booked from a suggestion')
  const december3 = page.getByRole('region', { name: 'Thu, Dec 3, 2015' })
  t.ok(await shows(december3.getByText('The Good Dinosaur')), 'now among the bookings')
  await dinosaur.waitFor({ state: 'detached' })
  t.pass('and no longer suggested')

  await december3.getByRole('button', { name: 'Cancel The Good Dinosaur on Thu, Dec 3, 2015' }).click()
  t.ok(await shows(page.getByText('Cancelled The Good Dinosaur on Thu, Dec 3, 2015.')))
  t.ok(await shows(dinosaur), 'suggested again')
})

t.test('a 401 sends you to sign in, then back where you were to try again', async (t) => {
  const page = await openSignedIn(t, '/showtimes?date=20151201', 'jim_halpert')
  const creed = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: /^Creed/ }) })
  t.ok(await shows(creed.getByRole('button', { name: 'Book Creed' })), 'signed in, with Book buttons')
  // The session ends behind the page's back (it expired, or was signed out in another tab).
  await page.context().clearCookies()
  await creed.getByRole('button', { name: 'Book Creed' }).click()
  await arrivedAt(page, '/sign-in?next=%2Fshowtimes%3Fdate%3D20151201')
  t.pass('the refused booking led to the sign-in page')
  t.ok(await shows(page.getByRole('banner').getByRole('link', { name: 'Sign in' })), 'the header knows: signed out')

  await signIn(page, 'jim_halpert')
  await arrivedAt(page, '/showtimes?date=20151201')
  t.pass('and signing in led back')
  await creed.getByRole('button', { name: 'Book Creed' }).click()
  t.ok(await shows(page.getByText('Booked Creed for you on Tue, Dec 1, 2015.')), 'where the booking now works')

  await page.goto(`${ui}/bookings/jim_halpert`)
  await page
    .getByRole('region', { name: 'Tue, Dec 1, 2015' })
    .getByRole('button', { name: 'Cancel Creed on Tue, Dec 1, 2015' })
    .click()
  t.ok(await shows(page.getByText('Cancelled Creed on Tue, Dec 1, 2015.')), 'cancelled again, as it was')
})

t.test('a second session cookie planted by another origin: signed out, told why, signed in again', async (t) => {
  const page = await openSignedIn(t, '/bookings/pam_beesly', 'pam_beesly')
  t.ok(await shows(page.getByRole('banner').getByText('Signed in as Pam Beesly')), 'signed in as Pam')
  // What a sibling origin can do: a cookie of the same name for a longer path, which the browser
  // sends first (here Dwight's own valid session, to make Pam act as him).
  const answer = await fetch(`${system.url('gateway')}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'dwight_schrute', password: DEMO_PASSWORD }),
  })
  const planted = ((await answer.json()) as { access_token: string }).access_token
  await page
    .context()
    .addCookies([
      { name: 'cinema_session', value: planted, domain: new URL(ui).hostname, path: '/api', sameSite: 'Strict' },
    ])
  await page.reload()
  await arrivedAt(page, '/sign-in?next=%2Fbookings%2Fpam_beesly')
  t.ok(await shows(page.getByRole('alert').getByText(/two sessions for this site/)), 'the page says why')
  t.ok(await shows(page.getByRole('banner').getByRole('link', { name: 'Sign in' })), 'signed out, as neither')
  t.notOk(await page.getByText('Signed in as Dwight').count(), 'never signed in as the planted session')
  t.same(
    (await page.context().cookies()).filter((cookie) => cookie.name === 'cinema_session'),
    [],
    'both cookies cleared, the one for /api too',
  )

  await signIn(page, 'pam_beesly')
  await arrivedAt(page, '/bookings/pam_beesly')
  t.ok(await shows(page.getByRole('banner').getByText('Signed in as Pam Beesly')), 'signed in again as Pam')
  t.equal(
    await page
      .getByRole('alert')
      .getByText(/two sessions/)
      .count(),
    0,
    'the notice is gone',
  )
})

const userCard = (page: Page, name: string) =>
  page.getByRole('listitem').filter({ has: page.getByRole('heading', { name, exact: true }) })

t.test('users: listed with last activity; an admin creates, renames, sets passwords and deletes', async (t) => {
  const visitor = await open(t, '/users')
  t.ok(await shows(userCard(visitor, 'Chris Rivers').getByText('Feb 5, 2013, 2:23 AM')), 'last active as a date')
  t.equal(
    await userCard(visitor, 'Chris Rivers').getByRole('link', { name: 'Chris Rivers' }).getAttribute('href'),
    '/bookings/chris_rivers',
    'a name leads to their bookings',
  )
  t.ok(await shows(visitor.getByRole('main').getByRole('link', { name: 'Sign up' })), 'signed out: a way to sign up')
  t.equal(await visitor.getByRole('main').getByRole('button').count(), 0, 'but no controls')

  const page = await openSignedIn(t, '/users', ADMIN)
  const card = (name: string) => userCard(page, name)
  const form = page.getByRole('form', { name: 'Add a user' })
  await form.getByLabel('Username', { exact: true }).fill('Octavia B')
  await form.getByLabel('Name', { exact: true }).fill('Octavia B')
  await form.getByLabel('Password', { exact: true }).fill('parable of the sower')
  await form.getByRole('button', { name: 'Add user' }).click()
  t.ok(
    await shows(form.getByRole('alert').getByText('That username won’t do. Lowercase letters, digits and _')),
    'a bad id',
  )

  await form.getByLabel('Username', { exact: true }).fill('octavia_b')
  await form.getByRole('button', { name: 'Add user' }).click()
  t.ok(await shows(page.getByText('Added Octavia B.')), 'created')
  t.ok(await shows(card('Octavia B').getByText('octavia_b')), 'and listed')

  await form.getByLabel('Username', { exact: true }).fill('octavia_b')
  await form.getByLabel('Name', { exact: true }).fill('Another Octavia')
  await form.getByLabel('Password', { exact: true }).fill('parable of the talents')
  await form.getByRole('button', { name: 'Add user' }).click()
  t.ok(await shows(form.getByRole('alert').getByText('The username “octavia_b” is taken.')), 'a taken id')

  await card('Octavia B').getByRole('button', { name: 'Rename Octavia B' }).click()
  await page.getByLabel('New name for octavia_b').fill('Octavia Butler')
  await page.getByRole('button', { name: 'Save', exact: true }).click()
  t.ok(await shows(page.getByText('Renamed Octavia B to Octavia Butler.')), 'renamed')
  t.ok(await shows(card('Octavia Butler')), 'under the new name')

  await card('Octavia Butler').getByRole('button', { name: 'Set password of Octavia Butler' }).click()
  t.equal(await page.getByLabel('Current password').count(), 0, 'an admin needs no one’s current password')
  await page.getByLabel('New password for octavia_b').fill('kindred, a novel')
  await page.getByRole('button', { name: 'Save password' }).click()
  t.ok(await shows(page.getByText('Changed Octavia Butler’s password.')), 'password set')

  await card('Octavia Butler').getByRole('button', { name: 'Delete Octavia Butler' }).click()
  await page.getByRole('button', { name: 'Yes, delete Octavia Butler' }).click()
  t.ok(await shows(page.getByText('Deleted Octavia Butler.')), 'deleted')
  await card('Octavia Butler').waitFor({ state: 'detached' })
  t.pass('and gone from the list')

  const dwight = card('Dwight Schrute')
  await dwight.getByRole('button', { name: 'Delete Dwight Schrute' }).click()
  await dwight.getByRole('button', { name: 'Yes, delete Dwight Schrute' }).click()
  t.ok(
    await shows(
      dwight.getByRole('alert').getByText('Dwight Schrute still has bookings, so they can’t be deleted yet.'),
    ),
    'a user with bookings is kept, and the card says why',
  )
  t.ok(await shows(dwight.getByRole('link', { name: 'their bookings' })), 'with the way to cancel them')
})

t.test('a customer sees and changes only their own account and bookings', async (t) => {
  const setup = await open(t, '/')
  await createAccount(setup, 'nora_j', 'Nora J', 'the fifth season')
  const page = await openSignedIn(t, '/users', 'nora_j', 'the fifth season')
  const card = (name: string) => userCard(page, name)
  const main = page.getByRole('main')
  t.ok(await shows(card('Nora J').getByRole('button', { name: 'Rename Nora J' })), 'her own card has controls')
  t.same(
    await main.getByRole('button').allTextContents(),
    ['Rename Nora J', 'Set password of Nora J', 'Delete Nora J'],
    'and no one else’s has any',
  )
  t.equal(await page.getByRole('form', { name: 'Add a user' }).count(), 0, 'nor can she add users')

  await card('Nora J').getByRole('button', { name: 'Set password of Nora J' }).click()
  await page.getByLabel('Current password').fill('not the password')
  await page.getByLabel('New password for nora_j').fill('the obelisk gate')
  await page.getByRole('button', { name: 'Save password' }).click()
  t.ok(
    await shows(card('Nora J').getByRole('alert').getByText('That is not your current password.')),
    'needs the current one',
  )
  await page.getByLabel('Current password').fill('the fifth season')
  await page.getByRole('button', { name: 'Save password' }).click()
  t.ok(await shows(page.getByText('Changed your password.')), 'changed with it')

  await card('Nora J').getByRole('button', { name: 'Rename Nora J' }).click()
  await page.getByLabel('New name for nora_j').fill('Nora Jemisin')
  await page.getByRole('button', { name: 'Save', exact: true }).click()
  t.ok(await shows(page.getByText('Renamed Nora J to Nora Jemisin.')), 'renamed herself')
  t.ok(await shows(page.getByRole('banner').getByText('Signed in as Nora Jemisin')), 'and the header follows')

  const others = await openSignedIn(t, '/bookings/dwight_schrute', 'nora_j', 'the obelisk gate')
  t.pass('the new password signs in')
  t.ok(await shows(others.getByText('Only Dwight Schrute can change these bookings.')), 'another’s bookings: said so')
  t.ok(await shows(others.getByRole('region', { name: 'Sat, Dec 5, 2015' }).getByText('The Martian')), 'shown')
  t.equal(await others.getByRole('main').getByRole('button').count(), 0, 'without a control')
  const showtimes = await openSignedIn(t, '/showtimes?date=20151201&user=dwight_schrute', 'nora_j', 'the obelisk gate')
  t.ok(await shows(showtimes.getByRole('button', { name: 'Book Creed' })), 'showtimes: she may book')
  t.equal(await showtimes.getByLabel('Book for', { exact: true }).count(), 0, 'for herself, not for whom the URL says')
  t.equal(await showtimes.getByText('Booked for Dwight Schrute').count(), 0, 'so Dwight’s bookings are not marked')

  await card('Nora Jemisin').getByRole('button', { name: 'Delete Nora Jemisin' }).click()
  // Her own account goes only with her password: a session left open is not enough.
  const deletePassword = card('Nora Jemisin').getByLabel('Your current password')
  await deletePassword.fill('not the obelisk gate')
  await page.getByRole('button', { name: 'Yes, delete my account' }).click()
  t.ok(
    await shows(card('Nora Jemisin').getByRole('alert').getByText('That is not your current password.')),
    'a wrong password: said so',
  )
  await deletePassword.fill('the obelisk gate')
  await page.getByRole('button', { name: 'Yes, delete my account' }).click()
  t.ok(await shows(page.getByText('Deleted your account.')), 'she deleted her account')
  t.ok(await shows(page.getByRole('banner').getByRole('link', { name: 'Sign in' })), 'and is signed out')
  await card('Nora Jemisin').waitFor({ state: 'detached' })
  t.pass('gone from the list')
})

t.test('keyboard: skip link, navigation, then the page’s own controls', async (t) => {
  const page = await open(t, '/')
  await page.keyboard.press('Tab')
  t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content', 'first stop')
  for (let press = 0; press < 3; press += 1) await page.keyboard.press('Tab') // Cinema, Dashboard, Movies
  t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Movies')
  await page.keyboard.press('Enter')
  await page.waitForURL(/\/movies$/)
  const focusOnMain = page.waitForFunction(() => document.activeElement?.id === 'main', undefined, { timeout: 5_000 })
  t.ok(
    await focusOnMain.then(
      () => true,
      () => false,
    ),
    'focus moves to the new page',
  )
  await page.keyboard.press('Tab')
  await page.keyboard.type('spectre')
  t.ok(await shows(page.getByText('1 movie of 7 match “spectre”.')), 'the filter is the next stop')
})

t.test('an unknown address says so', async (t) => {
  const page = await open(t, '/no/such/page')
  t.ok(await shows(page.getByRole('heading', { name: 'Page not found' })))
})

t.test('a date or user named after an Object.prototype member is simply unknown', async (t) => {
  const unknownDate = await open(t, '/showtimes?date=constructor')
  t.ok(await shows(unknownDate.getByRole('alert').getByText('Nothing is showing on “constructor”.')), 'no such date')
  const unknownUser = await openSignedIn(t, '/showtimes?date=20151201&user=constructor', ADMIN)
  t.ok(await shows(unknownUser.getByText('Could not load constructor’s bookings.')), 'named as given')
  t.ok(await shows(unknownUser.getByRole('button', { name: 'Book Creed' })), 'the date’s movies shown')
})

/** Every page signed out, then signed in as a customer and as the admin (who sees every control). */
async function everyPage(t: Test, check: (page: Page, name: string) => Promise<void>, width?: number) {
  for (const path of PAGES) {
    const page = await open(t, path, width)
    await settled(page)
    await page.getByRole('banner').getByRole('link', { name: 'Sign in' }).waitFor()
    await check(page, `${path}, signed out`)
  }
  for (const username of ['pam_beesly', ADMIN]) {
    const page = await openSignedIn(t, '/', username)
    // Arrived at through the app, as people do, so that the session is read once.
    for (const path of PAGES) {
      await page.goto(`${ui}${path}`)
      await settled(page)
      await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).waitFor()
      await check(page, `${path}, signed in as ${username}`)
    }
  }
}

t.test('every page: no serious or critical accessibility problem (axe)', async (t) => {
  await everyPage(t, async (page, name) => {
    t.same(await seriousViolations(page), [], name)
  })
  const forms = await openSignedIn(t, '/users', 'pam_beesly')
  await userCard(forms, 'Pam Beesly').getByRole('button', { name: 'Set password of Pam Beesly' }).click()
  await forms.getByLabel('Current password').waitFor()
  t.same(await seriousViolations(forms), [], 'the password form')
})

t.test('every page fits a 375 px wide phone without sideways scrolling', async (t) => {
  await everyPage(
    t,
    async (page, name) => {
      t.equal(await horizontalOverflow(page), 0, name)
    },
    375,
  )
})

t.test('a service that is down is named on the page', async (t) => {
  await system.stop('movies')
  t.teardown(() => system.start('movies'))

  const dashboard = await open(t, '/')
  const movies = dashboard
    .getByRole('listitem')
    .filter({ has: dashboard.getByRole('heading', { name: 'Movies', exact: true }) })
  t.ok(await shows(movies.getByText('Down', { exact: true }), POLLED_WAIT_MS), 'the dashboard shows movies down')
  t.ok(
    await shows(dashboard.getByText('1 of 5 services is down: Movies.'), POLLED_WAIT_MS),
    'and says so in its summary',
  )
  t.ok(
    await shows(dashboard.getByText('The movies service is unavailable.').first(), POLLED_WAIT_MS),
    'the count says why',
  )

  const catalog = await open(t, '/movies')
  t.ok(
    await shows(catalog.getByRole('alert').getByText('Could not load the movies. The movies service is unavailable.')),
    'the movies page names the service',
  )
  t.ok(await shows(catalog.getByRole('button', { name: 'Try again' })), 'and offers to try again')
})

t.test('no page had anything refused by the Content-Security-Policy', async (t) => {
  t.same(cspViolations, [])
})
