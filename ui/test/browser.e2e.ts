// The UI in Chromium against the whole system, as a person would use it: `npm run test:browser`
// (needs Chromium on PATH, e.g. Debian's `apt-get install -y chromium`; `npm test` leaves it out).
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { startSystem } from '../../test/helpers/system.js'
import { horizontalOverflow, launchChromium, openPage, seriousViolations, settled, shows } from './helpers/browser.js'

const SCREENSHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
const PAGES = ['/', '/movies', '/showtimes?date=20151201', '/users', '/bookings/dwight_schrute']

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

t.test('the dashboard shows all five services up, with response times and counts', async (t) => {
  const page = await open(t, '/')
  t.ok(await shows(page.getByText('All 5 services are up.')), 'summary says all are up')
  for (const name of ['Gateway', 'Users', 'Movies', 'Showtimes', 'Bookings']) {
    const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name, exact: true }) })
    t.ok(await shows(card.getByText('Up', { exact: true })), `${name} is up`)
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
  t.same((await titles()).at(-1), 'The Danish Girl', 'by rating, the lowest (5.3) comes last')
  await page.getByLabel('Sort by').selectOption({ label: 'Title, A to Z' })
  t.same(await titles(), [
    'Creed',
    'Spectre',
    'The Danish Girl',
    'The Good Dinosaur',
    'The Martian',
    'The Night Before',
    'Victor Frankenstein',
  ])
  await page.getByLabel('Find a title or director').fill('ridley')
  t.same(await titles(), ['The Martian'], 'a director finds their movie')
  t.ok(await shows(page.getByText('1 movie of 7 match “ridley”.')), 'the count says so')

  await page.getByLabel('Find a title or director').fill('zzz')
  t.ok(await shows(page.getByText('No movie matches')), 'no match is said, not left blank')
})

t.test('showtimes: every date one click away, and booking for a chosen user', async (t) => {
  const page = await open(t, '/showtimes')
  t.ok(await shows(page.getByRole('heading', { name: 'Playing on Mon, Nov 30, 2015' })), 'the first date at first')
  await page.getByRole('navigation', { name: 'Show dates' }).getByRole('link', { name: 'Tue, Dec 1' }).click()
  t.ok(await shows(page.getByRole('heading', { name: 'Playing on Tue, Dec 1, 2015' })), 'the chosen date')
  const creed = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: /^Creed/ }) })
  t.ok(await shows(creed.getByText('8.8')), 'Creed plays, rated 8.8')
  t.match(page.url(), /\/showtimes\?date=20151201$/)
  await page.reload()
  t.ok(await shows(creed.getByText('8.8')), 'a reload keeps the date')

  await creed.getByRole('button', { name: 'Book Creed' }).click()
  t.ok(await shows(page.getByRole('alert').getByText('Choose who the booking is for first')), 'asks for whom')

  await page.getByLabel('Book for', { exact: true }).selectOption({ label: 'Pam Beesly (pam_beesly)' })
  await creed.getByRole('button', { name: 'Book Creed' }).click()
  t.ok(await shows(page.getByText('Booked Creed for Pam Beesly on Tue, Dec 1, 2015.')), 'booked, in words')
  t.ok(await shows(creed.getByText('Booked for Pam Beesly')), 'the movie is marked booked')
  await creed.getByRole('button', { name: 'Book Creed' }).click()
  t.ok(await shows(page.getByText('Pam Beesly already had Creed booked on Tue, Dec 1, 2015.')), 'booking twice is fine')

  await page.getByRole('link', { name: 'See Pam Beesly’s bookings' }).click()
  const day = page.getByRole('region', { name: 'Tue, Dec 1, 2015' })
  t.ok(await shows(day.getByText('Creed')), 'the booking is on her page')
  await day.getByRole('button', { name: 'Cancel Creed on Tue, Dec 1, 2015' }).click()
  t.ok(await shows(page.getByText('Cancelled Creed on Tue, Dec 1, 2015.')), 'cancelled, in words')
  t.ok(await shows(page.getByText('No bookings yet.')), 'and gone from her bookings')
})

t.test('a user’s bookings: by date, with suggestions to book', async (t) => {
  const page = await open(t, '/bookings/dwight_schrute')
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

t.test('users: listed with last activity, created, renamed and deleted, errors said inline', async (t) => {
  const page = await open(t, '/users')
  const card = (name: string) =>
    page.getByRole('listitem').filter({ has: page.getByRole('heading', { name, exact: true }) })
  t.ok(await shows(card('Chris Rivers').getByText('Feb 5, 2013, 2:23 AM')), 'last active as a date')
  t.equal(
    await card('Chris Rivers').getByRole('link', { name: 'Chris Rivers' }).getAttribute('href'),
    '/bookings/chris_rivers',
    'a name leads to their bookings',
  )

  const form = page.getByRole('form', { name: 'Add a user' })
  await form.getByLabel('Username', { exact: true }).fill('Ursula K')
  await form.getByLabel('Name', { exact: true }).fill('Ursula K')
  await form.getByRole('button', { name: 'Add user' }).click()
  t.ok(
    await shows(form.getByRole('alert').getByText('That username won’t do. Lowercase letters, digits and _')),
    'a bad id',
  )

  await form.getByLabel('Username', { exact: true }).fill('ursula_k')
  await form.getByRole('button', { name: 'Add user' }).click()
  t.ok(await shows(page.getByText('Added Ursula K.')), 'created')
  t.ok(await shows(card('Ursula K').getByText('ursula_k')), 'and listed')

  await form.getByLabel('Username', { exact: true }).fill('ursula_k')
  await form.getByLabel('Name', { exact: true }).fill('Another Ursula')
  await form.getByRole('button', { name: 'Add user' }).click()
  t.ok(await shows(form.getByRole('alert').getByText('The username “ursula_k” is taken.')), 'a taken id')

  await card('Ursula K').getByRole('button', { name: 'Rename Ursula K' }).click()
  await page.getByLabel('New name for ursula_k').fill('Ursula Le Guin')
  await page.getByRole('button', { name: 'Save' }).click()
  t.ok(await shows(page.getByText('Renamed Ursula K to Ursula Le Guin.')), 'renamed')
  t.ok(await shows(card('Ursula Le Guin')), 'under the new name')

  await card('Ursula Le Guin').getByRole('button', { name: 'Delete Ursula Le Guin' }).click()
  await page.getByRole('button', { name: 'Yes, delete Ursula Le Guin' }).click()
  t.ok(await shows(page.getByText('Deleted Ursula Le Guin.')), 'deleted')
  await card('Ursula Le Guin').waitFor({ state: 'detached' })
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

t.test('keyboard: skip link, navigation, then the page’s own controls', async (t) => {
  const page = await open(t, '/')
  await page.keyboard.press('Tab')
  t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content', 'first stop')
  for (let press = 0; press < 3; press += 1) await page.keyboard.press('Tab') // Cinema, Dashboard, Movies
  t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Movies')
  await page.keyboard.press('Enter')
  await page.waitForURL(/\/movies$/)
  t.equal(await page.evaluate(() => document.activeElement?.id), 'main', 'focus moves to the new page')
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
  const unknownUser = await open(t, '/showtimes?date=20151201&user=constructor')
  t.ok(await shows(unknownUser.getByText('Could not load constructor’s bookings.')), 'named as given')
  t.ok(await shows(unknownUser.getByRole('button', { name: 'Book Creed' })), 'the date’s movies shown')
})

t.test('every page: no serious or critical accessibility problem (axe)', async (t) => {
  for (const path of PAGES) {
    const page = await open(t, path)
    await settled(page)
    t.same(await seriousViolations(page), [], path)
  }
})

t.test('every page fits a 375 px wide phone without sideways scrolling', async (t) => {
  for (const path of PAGES) {
    const page = await open(t, path, 375)
    await settled(page)
    t.equal(await horizontalOverflow(page), 0, path)
  }
})

t.test('a service that is down is named on the page', async (t) => {
  await system.stop('movies')
  t.teardown(() => system.start('movies'))

  const dashboard = await open(t, '/')
  const movies = dashboard
    .getByRole('listitem')
    .filter({ has: dashboard.getByRole('heading', { name: 'Movies', exact: true }) })
  t.ok(await shows(movies.getByText('Down', { exact: true })), 'the dashboard shows movies down')
  t.ok(await shows(dashboard.getByText('1 of 5 services is down: Movies.')), 'and says so in its summary')
  t.ok(await shows(dashboard.getByText('The movies service is unavailable.').first()), 'the count says why')

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
