import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto'

// scrypt with N = 2^15, r = 8, p = 1 (32 MiB per hash): about 100 ms on this project's 2-core
// machine, run on libuv's thread pool so the event loop keeps serving meanwhile.
const COST_LOG2 = 15
const BLOCK_SIZE = 8
const PARALLELISM = 1
const SALT_BYTES = 16
const KEY_BYTES = 32
const STORED = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([\w+/]+={0,2})\$([\w+/]+={0,2})$/

function derive(password: string, salt: Buffer, options: ScryptOptions, length: number): Promise<Buffer> {
  const cost = options.N ?? 1
  const maxmem = 256 * cost * (options.r ?? 1) * (options.p ?? 1)
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, length, { ...options, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  )
}

/** `$scrypt$ln=15,r=8,p=1$<salt>$<key>`, base64, with a fresh random salt per password. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES)
  const key = await derive(password, salt, { N: 2 ** COST_LOG2, r: BLOCK_SIZE, p: PARALLELISM }, KEY_BYTES)
  return `$scrypt$ln=${COST_LOG2},r=${BLOCK_SIZE},p=${PARALLELISM}$${salt.toString('base64')}$${key.toString('base64')}`
}

/** Whether `password` is the one `stored` was made from, compared in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [, costLog2, blockSize, parallelism, salt, key] = STORED.exec(stored) ?? []
  if (!salt || !key) return false
  const expected = Buffer.from(key, 'base64')
  const options = { N: 2 ** Number(costLog2), r: Number(blockSize), p: Number(parallelism) }
  const actual = await derive(password, Buffer.from(salt, 'base64'), options, expected.length)
  return timingSafeEqual(actual, expected)
}
