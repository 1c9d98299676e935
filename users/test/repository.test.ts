import { fileURLToPath } from 'node:url'
import { migrate } from '@cinema/kit'
import t from 'tap'
import { eachDriver, quietLog } from '../../test/helpers/databases.js'
import { UserRepository, userMigrations } from '../src/repository.js'

const SEED_FILE = fileURLToPath(new URL('../../data/users.json', import.meta.url))
// The repository stores whatever hash it is given; passwords.ts makes real ones.
const HASH = '$scrypt$ln=15,r=8,p=1$c2FsdA==$aGFzaA=='
const OTHER_HASH = '$scrypt$ln=15,r=8,p=1$c2FsdDI=$aGFzaDI='

t.test('user repository', (t) =>
  eachDriver(t, async (t, { open }) => {
    const db = await open()
    await migrate(db, userMigrations(SEED_FILE), quietLog)
    const users = new UserRepository(db)
    const passwordHashOf = async (id: string) =>
      (await db.query<{ password_hash: string | null }>('SELECT password_hash FROM users WHERE id = $1', [id]))[0]
        ?.password_hash

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
      t.equal(await passwordHashOf('chris_rivers'), null, 'no password of their own')
    })

    t.test('create, update, remove', async (t) => {
      const created = await users.create('toby_flenderson', 'Toby', HASH)
      t.match(created, { id: 'toby_flenderson', name: 'Toby' })
      t.same(Object.keys(created ?? {}).sort(), ['id', 'last_active', 'name'], 'never the password hash')
      t.ok(Math.abs((created?.last_active ?? 0) - Date.now() / 1000) < 5, 'active now')
      t.equal(await passwordHashOf('toby_flenderson'), HASH, 'the hash is stored')
      t.equal(await users.create('toby_flenderson', 'Again', OTHER_HASH), undefined, 'an id is taken once')
      t.equal(await passwordHashOf('toby_flenderson'), HASH, 'and the first hash kept')
      t.same(Object.keys(await users.all()).at(-1), 'toby_flenderson', 'newest last')
      t.match(await users.update('toby_flenderson', { name: 'Toby Flenderson' }), { name: 'Toby Flenderson' })
      t.equal(await passwordHashOf('toby_flenderson'), HASH, 'a rename keeps the password')
      t.match(await users.update('toby_flenderson', { passwordHash: OTHER_HASH }), { name: 'Toby Flenderson' })
      t.equal(await passwordHashOf('toby_flenderson'), OTHER_HASH, 'a new password keeps the name')
      t.equal(await users.update('nobody', { name: 'X' }), undefined)
      const deletion = await users.beginDeletion('toby_flenderson')
      if (!deletion) throw new Error('toby_flenderson could not be marked for deletion')
      t.equal(await users.byId('toby_flenderson'), undefined, 'a user being deleted reads as absent')
      t.equal(await users.beginDeletion('toby_flenderson'), undefined, 'one deletion at a time')
      t.equal(await users.remove('toby_flenderson', 'ffffffff-ffff-4fff-bfff-ffffffffffff'), false, 'only by its mark')
      t.equal(await users.remove('toby_flenderson', deletion), true)
      t.equal(await users.remove('toby_flenderson', deletion), false)
      t.equal(await users.beginDeletion('toby_flenderson'), undefined, 'gone')
      t.equal(await users.create('toby_flenderson', 'Toby', HASH), undefined, 'held back while its tokens may live')
    })

    t.test('ids naming Object.prototype members are ordinary keys', async (t) => {
      for (const id of ['__proto__', 'constructor']) t.match(await users.create(id, `Mr ${id}`, HASH), { id })
      const all = await users.all()
      t.same(Object.keys(all).slice(-2), ['__proto__', 'constructor'])
      t.match(Object.entries(all).slice(-2), [
        ['__proto__', { id: '__proto__', name: 'Mr __proto__' }],
        ['constructor', { id: 'constructor', name: 'Mr constructor' }],
      ])
      t.equal(Object.hasOwn(all, 'toString'), false)
      for (const id of ['__proto__', 'constructor'])
        t.equal(await users.remove(id, (await users.beginDeletion(id)) ?? ''), true)
    })

    t.test('the schema refuses bad ids and blank names', async (t) => {
      await t.rejects(users.create('Bad Id', 'X', HASH), { code: '23514' })
      await t.rejects(users.create('blank', '   ', HASH), { code: '23514' })
    })

    t.test('20 concurrent creates of one id: exactly one wins', async (t) => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => users.create('creed_bratton', `Creed ${i}`, HASH)),
      )
      t.equal(results.filter(Boolean).length, 1)
    })

    t.test('two administrators revoking or deleting each other at once: one of them remains', async (t) => {
      const ROUNDS = 20
      const adminsNow = async () =>
        (await db.query<{ id: string }>("SELECT id FROM users WHERE role = 'admin'")).map((row) => row.id)
      const outcomes = { revokedBoth: 0, deletedBoth: 0 }
      /** Two new accounts, and they alone administrators. */
      const onlyAdmins = async (first: string, second: string) => {
        await users.create(first, 'A', HASH)
        await users.create(second, 'B', HASH)
        await db.query(`UPDATE users SET role = CASE WHEN id IN ($1, $2) THEN 'admin' ELSE 'customer' END`, [
          first,
          second,
        ])
        return [first, second] as const
      }
      for (let round = 0; round < ROUNDS; round++) {
        const [first, second] = await onlyAdmins(`admin_a_${round}`, `admin_b_${round}`)
        // One revokes the second's role while the other deletes the first's account, at once.
        const [revoked, deletion] = await Promise.all([
          users.update(second, { role: 'customer' }),
          users.beginDeletion(first),
        ])
        const deleting = deletion !== undefined && deletion !== 'last admin'
        if (revoked && deleting) outcomes.deletedBoth++
        if (deleting) await users.remove(first, deletion)
        t.equal((await adminsNow()).length, 1, `deletion round ${round + 1}: exactly one administrator remains`)
      }
      for (let round = 0; round < ROUNDS; round++) {
        const [first, second] = await onlyAdmins(`revoker_a_${round}`, `revoker_b_${round}`)
        const results = await Promise.all([
          users.update(first, { role: 'customer' }),
          users.update(second, { role: 'customer' }),
        ])
        if (results.every(Boolean)) outcomes.revokedBoth++
        t.equal((await adminsNow()).length, 1, `revocation round ${round + 1}: exactly one administrator remains`)
      }
      t.same(outcomes, { revokedBoth: 0, deletedBoth: 0 }, `${ROUNDS} rounds of each race: never both`)
    })
  }),
)
