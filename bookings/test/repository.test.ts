import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { migrate } from '@cinema/kit'
import t from 'tap'
import { eachDriver, quietLog } from '../../test/helpers/databases.js'
import { BookingRepository, bookingMigrations } from '../src/repository.js'

const SEED_FILE = fileURLToPath(new URL('../../data/bookings.json', import.meta.url))
const CREED = '267eedb8-0f5d-42d5-8f43-72426b9fb3e6'

t.test('booking repository', (t) =>
  eachDriver(t, async (t, { open }) => {
    const db = await open()
    await migrate(db, bookingMigrations(SEED_FILE), quietLog)
    const bookings = new BookingRepository(db)
    /** Books as a request does, the user found: true when the booking is new. */
    const add = async (username: string, date: string, movieId: string) => {
      const reserved = await bookings.reserve(username, date, movieId)
      t.equal(await bookings.confirm(username, date, movieId), true)
      return reserved !== undefined
    }

    t.test('seeded from data/bookings.json, grouped by user and date, in booking order', async (t) => {
      t.same(await bookings.all(), JSON.parse(readFileSync(SEED_FILE, 'utf8')))
      t.same(await bookings.forUser('chris_rivers'), { '20151201': [CREED] })
      t.equal(await bookings.forUser('jim_halpert'), undefined)
    })

    t.test('add is true once, then false; remove likewise', async (t) => {
      t.equal(await add('jim_halpert', '20151201', CREED), true)
      t.equal(await add('jim_halpert', '20151201', CREED), false)
      t.same(await bookings.forUser('jim_halpert'), { '20151201': [CREED] })
      t.equal(await bookings.remove('jim_halpert', '20151201', CREED), true)
      t.equal(await bookings.remove('jim_halpert', '20151201', CREED), false)
      t.equal(await bookings.forUser('jim_halpert'), undefined)
    })

    t.test('withdraw takes back only an unconfirmed row; the sweep only those older than asked', async (t) => {
      const withdrawn = await bookings.reserve('kelly_kapoor', '20151201', CREED)
      t.type(withdrawn, 'number')
      await bookings.withdraw(withdrawn ?? 0)
      t.equal(await bookings.forUser('kelly_kapoor'), undefined)
      t.equal(await bookings.confirm('kelly_kapoor', '20151201', CREED), false, 'nothing left to confirm')
      t.equal(await add('kelly_kapoor', '20151201', CREED), true)
      await bookings.withdraw((await bookings.reserve('kelly_kapoor', '20151202', CREED)) ?? 0)
      t.same(await bookings.forUser('kelly_kapoor'), { '20151201': [CREED] }, 'a confirmed booking stays')
      await bookings.reserve('kelly_kapoor', '20151202', CREED)
      t.equal(await bookings.sweepUnconfirmed(60), 0, 'a young unconfirmed booking stays')
      t.equal(await bookings.sweepUnconfirmed(0), 1, 'an old one goes')
      t.same(await bookings.forUser('kelly_kapoor'), { '20151201': [CREED] })
      t.equal(await bookings.remove('kelly_kapoor', '20151201', CREED), true)
    })

    t.test('usernames naming Object.prototype members are ordinary keys', async (t) => {
      const before = await bookings.all()
      t.equal(await bookings.forUser('__proto__'), undefined)
      t.equal(await bookings.forUser('constructor'), undefined)
      t.equal(await bookings.forUser('toString'), undefined)
      t.equal(await add('__proto__', '20151201', CREED), true)
      t.equal(await add('constructor', '20151202', CREED), true)
      const all = await bookings.all()
      t.same(Object.keys(all).slice(-2), ['__proto__', 'constructor'])
      t.same(Object.entries(all).slice(-2), [
        ['__proto__', { '20151201': [CREED] }],
        ['constructor', { '20151202': [CREED] }],
      ])
      t.same(await bookings.forUser('__proto__'), { '20151201': [CREED] })
      t.same(await bookings.forUser('chris_rivers'), { '20151201': [CREED] }, 'others unchanged')
      t.equal(({} as Record<string, unknown>)['20151201'], undefined, 'nothing written onto Object.prototype')
      t.equal(await bookings.remove('__proto__', '20151201', CREED), true)
      t.equal(await bookings.remove('constructor', '20151202', CREED), true)
      t.equal(await bookings.forUser('__proto__'), undefined)
      t.same(await bookings.all(), before)
    })

    t.test('the schema refuses what no caller should write', async (t) => {
      await t.rejects(add('', '20151201', CREED), { code: '23514' })
      await t.rejects(add('pam_beesly', '2015-12-01', CREED), { code: '23514' })
    })

    t.test('concurrent adds: 100 distinct all land; 20 identical make one row', async (t) => {
      const distinct = Array.from({ length: 100 }, (_, i) => add(`racer_${i}`, '20151201', CREED))
      t.equal((await Promise.all(distinct)).filter(Boolean).length, 100)
      const same = Array.from({ length: 20 }, () => add('pam_beesly', '20151202', CREED))
      t.equal((await Promise.all(same)).filter(Boolean).length, 1, 'exactly one reports it created the row')
      t.same(await bookings.forUser('pam_beesly'), { '20151202': [CREED] })
      const [{ n } = { n: 0 }] = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM bookings WHERE username LIKE 'racer_%'",
      )
      t.equal(n, 100)
    })
  }),
)
