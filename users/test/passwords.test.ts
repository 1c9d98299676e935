// Password hashing (issues 12 and 18): argon2id at OWASP's minimum, a fresh salt per hash, the
// scrypt hashes of earlier versions still verified, and a cost of milliseconds, not more, per hash.
import { randomBytes, scryptSync } from 'node:crypto'
import fc from 'fast-check'
import t from 'tap'
import { hashPassword, needsRehash, verifyPassword } from '../src/passwords.js'

// `$argon2id$v=19$m=19456,t=2,p=1$<16-byte salt, unpadded base64>$<32-byte hash, unpadded base64>`
const STORED = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$/

/** A hash as earlier versions stored them: `$scrypt$ln=15,r=8,p=1$<salt>$<key>`. */
function scryptHash(password: string): string {
  const salt = randomBytes(16)
  const key = scryptSync(password.normalize('NFC'), salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 })
  return `$scrypt$ln=15,r=8,p=1$${salt.toString('base64')}$${key.toString('base64')}`
}

t.test('the stored form: argon2id, its parameters, a 16-byte salt and a 32-byte hash', async (t) => {
  const stored = await hashPassword('correct horse battery staple')
  t.match(stored, STORED)
  const [, salt, key] = STORED.exec(stored) ?? []
  t.equal(Buffer.from(salt ?? '', 'base64').length, 16, 'salt bytes')
  t.equal(Buffer.from(key ?? '', 'base64').length, 32, 'hash bytes')
  t.equal(needsRehash(stored), false, 'current: not rehashed')
  t.notOk(stored.includes('correct horse'), 'the password is not in it')
})

t.test('a salt of its own for every hash: the same password never hashes alike', async (t) => {
  const hashes = await Promise.all(Array.from({ length: 4 }, () => hashPassword('the-same-password')))
  const salts = hashes.map((stored) => STORED.exec(stored)?.[1])
  t.equal(new Set(hashes).size, hashes.length, 'four different hashes')
  t.equal(new Set(salts).size, salts.length, 'four different salts')
  for (const stored of hashes) t.ok(await verifyPassword('the-same-password', stored), 'each verifies')
})

t.test('verify: the password itself only', async (t) => {
  const password = 'Tr0ub4dor&3-with-a-tail'
  const stored = await hashPassword(password)
  t.equal(await verifyPassword(password, stored), true, 'the password')
  for (const wrong of [
    '',
    'tr0ub4dor&3-with-a-tail',
    'Tr0ub4dor&3-with-a-tai',
    `${password} `,
    ` ${password}`,
    'Tr0ub4dor&3-with-a-tail'.normalize('NFKD').toUpperCase(),
  ]) {
    t.equal(await verifyPassword(wrong, stored), false, `not ${JSON.stringify(wrong)}`)
  }
  // (Trailing NUL characters are not tried: the API refuses control characters in bodies.)
  // The same text however it is composed: é as one code point or as e and a combining accent.
  const composed = await hashPassword('caf\u00e9-password')
  t.equal(await verifyPassword('cafe\u0301-password', composed), true, 'NFC and NFD alike')
  // Something that is not a stored hash matches nothing (an account without one cannot be entered).
  for (const stored of [
    '',
    'plain-text',
    '$scrypt$ln=15,r=8,p=1$$',
    '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA',
    '$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA',
  ]) {
    t.equal(await verifyPassword('plain-text', stored), false, `not a hash: ${JSON.stringify(stored)}`)
  }
  // A changed key, salt or parameter: no match.
  const [, salt, key] = STORED.exec(stored) ?? []
  const flipped = Buffer.from(key ?? '', 'base64')
  flipped[0] = (flipped[0] ?? 0) ^ 1
  t.equal(await verifyPassword(password, stored.replace(key ?? '', flipped.toString('base64'))), false, 'key changed')
  const otherSalt = Buffer.alloc(16, 7).toString('base64').replace(/=+$/, '')
  t.equal(await verifyPassword(password, stored.replace(salt ?? '', otherSalt)), false, 'salt changed')
  t.equal(await verifyPassword(password, stored.replace('t=2', 't=3')), false, 'cost changed')
})

t.test('the scrypt hashes of earlier versions still verify, and are to be rehashed', async (t) => {
  const stored = scryptHash('caf\u00e9-old-password')
  t.equal(await verifyPassword('cafe\u0301-old-password', stored), true, 'the password')
  t.equal(await verifyPassword('cafe-old-password', stored), false, 'not another')
  t.equal(await verifyPassword('caf\u00e9-old-password', stored.replace('ln=15', 'ln=14')), false, 'cost changed')
  t.equal(needsRehash(stored), true, 'rehashed at the next good sign-in')
  t.equal(needsRehash('$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA'), true, 'other argon2id parameters too')
})

t.test('generated passwords: each verifies against its own hash and no other', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.string({ unit: 'grapheme', minLength: 10, maxLength: 40 }),
      fc.string({ unit: 'grapheme', minLength: 10, maxLength: 40 }),
      async (password, other) => {
        const stored = await hashPassword(password)
        if (!(await verifyPassword(password, stored))) return false
        return password.normalize('NFC') === other.normalize('NFC') || !(await verifyPassword(other, stored))
      },
    ),
    { numRuns: 8 },
  )
  t.pass('8 generated pairs')
})

t.test('a hash costs milliseconds: more than a microsecond, less than a tenth of a second', async (t) => {
  // CPU time, not wall time: the hash runs on a libuv thread of this process, which
  // process.cpuUsage counts, and other processes keeping the machine busy do not lengthen it.
  const cpuMs = async (work: () => Promise<unknown>) => {
    const started = process.cpuUsage()
    await work()
    const used = process.cpuUsage(started)
    return (used.user + used.system) / 1000
  }
  const times: number[] = []
  for (let index = 0; index < 5; index++) times.push(await cpuMs(() => hashPassword(`timing-password-${index}`)))
  const stored = await hashPassword('timing-password')
  const verifyMs = await cpuMs(() => verifyPassword('timing-password', stored))
  const median = times.sort((a, b) => a - b)[2] as number
  t.comment(
    `argon2id m=19456 t=2 p=1: ${median.toFixed(1)} ms of CPU per hash (median of 5: ${times.map((ms) => ms.toFixed(0)).join(', ')}), verify ${verifyMs.toFixed(1)} ms`,
  )
  // 19 MiB filled twice is ~10–30 ms of CPU on a current core; bounds wide for slower ones.
  t.ok(median >= 5 && median <= 100, `${median.toFixed(1)} ms per hash, within 5–100 ms`)
  t.ok(verifyMs >= 5 && verifyMs <= 100, `${verifyMs.toFixed(1)} ms per verification, within 5–100 ms`)
})
