import { fileURLToPath } from 'node:url'
import { migrate } from '@cinema/kit'
import t from 'tap'
import { eachDriver, quietLog } from '../../test/helpers/databases.js'
import { UserRepository, userMigrations } from '../src/repository.js'

const SEED_FILE = fileURLToPath(new URL('../../data/users.json', import.meta.url))

t.test('user repository', (t) =>
  eachDriver(t, async (t, { open }) => {
    const db = await open()
    await migrate(db, userMigrations(SEED_FILE), quietLog)
    const users = new UserRepository(db)

    t.test('seeded from data/users.json, in file order', async (t) => {
      const all = await users.all()
      t.same(Object.keys(all), [
        'chris_rivers',
        'peter_curley',
        'garret_heaton',
        'michael_scott',
        'jim_halpert',
        'pam_beesly',
        'dwight_schrute',
      ])
      t.same(all.chris_rivers, { id: 'chris_rivers', name: 'Chris Rivers', last_active: 1360031010 })
      t.same(await users.byId('pam_beesly'), { id: 'pam_beesly', name: 'Pam Beesly', last_active: 1360031225 })
      t.equal(await users.byId('jim_the_duck_guy'), undefined)
    })

    t.test('create, rename, remove', async (t) => {
      const created = await users.create('toby_flenderson', 'Toby')
      t.match(created, { id: 'toby_flenderson', name: 'Toby' })
      t.ok(Math.abs((created?.last_active ?? 0) - Date.now() / 1000) < 5, 'active now')
      t.equal(await users.create('toby_flenderson', 'Again'), undefined, 'an id is taken once')
      t.same(Object.keys(await users.all()).at(-1), 'toby_flenderson', 'newest last')
      t.match(await users.rename('toby_flenderson', 'Toby Flenderson'), { name: 'Toby Flenderson' })
      t.equal(await users.rename('nobody', 'X'), undefined)
      t.equal(await users.remove('toby_flenderson'), true)
      t.equal(await users.remove('toby_flenderson'), false)
    })

    t.test('ids naming Object.prototype members are ordinary keys', async (t) => {
      for (const id of ['__proto__', 'constructor']) t.match(await users.create(id, `Mr ${id}`), { id })
      const all = await users.all()
      t.same(Object.keys(all).slice(-2), ['__proto__', 'constructor'])
      t.match(Object.entries(all).slice(-2), [
        ['__proto__', { id: '__proto__', name: 'Mr __proto__' }],
        ['constructor', { id: 'constructor', name: 'Mr constructor' }],
      ])
      t.equal(Object.hasOwn(all, 'toString'), false)
      for (const id of ['__proto__', 'constructor']) t.equal(await users.remove(id), true)
    })

    t.test('the schema refuses bad ids and blank names', async (t) => {
      await t.rejects(users.create('Bad Id', 'X'), { code: '23514' })
      await t.rejects(users.create('blank', '   '), { code: '23514' })
    })

    t.test('20 concurrent creates of one id: exactly one wins', async (t) => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => users.create('creed_bratton', `Creed ${i}`)),
      )
      t.equal(results.filter(Boolean).length, 1)
    })
  }),
)
