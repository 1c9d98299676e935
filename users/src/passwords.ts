import { type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto'
import { HttpError } from '@cinema/kit'
import { type Algorithm, hash, verify } from '@node-rs/argon2'
import type { Counter } from 'prom-client'

// Argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane): about 20 ms of CPU a hash on this
// project's 2-core machine, on a libuv thread, so the event loop keeps serving meanwhile.
// (`Algorithm.Argon2id` is 2: a const enum, which this project's module settings cannot import.)
const ARGON2ID = { algorithm: 2 as Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const
// What every hash made with these parameters starts with: anything else is rehashed at the next good sign-in.
const CURRENT = `$argon2id$v=19$m=${ARGON2ID.memoryCost},t=${ARGON2ID.timeCost},p=${ARGON2ID.parallelism}$`
// Any argon2id hash, whatever its parameters (they are in the string); argon2 and argon2i are not accepted.
const ARGON2ID_STORED = /^\$argon2id\$v=19\$m=\d{1,7},t=\d{1,2},p=\d{1,2}\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}$/
// What passwords were stored as before argon2id: still verified, never made.
const SCRYPT_STORED = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([\w+/]+={0,2})\$([\w+/]+={0,2})$/

// The same text however it is composed: é as one code point or as e and a combining accent.
const normalized = (password: string) => password.normalize('NFC')

/** `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` (PHC string), with a fresh random salt per password. */
export function hashPassword(password: string): Promise<string> {
  return hash(normalized(password), ARGON2ID)
}

/** Whether `password` is the one `stored` (argon2id, or the scrypt of earlier versions) was made from. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (ARGON2ID_STORED.test(stored)) return verify(stored, normalized(password)).catch(() => false)
  return verifyScrypt(password, stored)
}

/** Whether `stored` was made some other way than hashPassword makes them now. */
export function needsRehash(stored: string): boolean {
  return !stored.startsWith(CURRENT)
}

async function verifyScrypt(password: string, stored: string): Promise<boolean> {
  const [, costLog2, blockSize, parallelism, salt, key] = SCRYPT_STORED.exec(stored) ?? []
  if (!salt || !key) return false
  const expected = Buffer.from(key, 'base64')
  const options: ScryptOptions = { N: 2 ** Number(costLog2), r: Number(blockSize), p: Number(parallelism) }
  const maxmem = 256 * (options.N ?? 1) * (options.r ?? 1) * (options.p ?? 1)
  const actual = await new Promise<Buffer>((resolve, reject) =>
    scrypt(normalized(password), Buffer.from(salt, 'base64'), expected.length, { ...options, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  ).catch(() => undefined)
  return actual !== undefined && timingSafeEqual(actual, expected)
}

export interface HashingLimits {
  /** Hashes computed at once. */
  concurrency: number
  /** Longest expected wait for a turn; a hash that would wait longer is refused at once (503). */
  maxWaitMs: number
}

// Weight of the latest hash in the running mean of how long one takes.
const MEAN_WEIGHT = 0.2

/**
 * Every password hash and verification of the process, bounded: `concurrency` at once, then a
 * queue as long as the expected wait (queued × mean hash time / concurrency) stays within
 * `maxWaitMs`, then an immediate 503 OVERLOADED with Retry-After. Nothing is held while waiting
 * (no database connection: callers query before or after, never around a hash).
 */
export class Passwords {
  #running = 0
  readonly #waiting: (() => void)[] = []
  #meanMs: number

  constructor(
    private readonly limits: HashingLimits,
    private readonly hashes: Counter,
    /** A first guess at a hash's wall time, until hashes are measured. */
    initialMeanMs = 50,
  ) {
    this.#meanMs = initialMeanMs
  }

  /** The running mean of a hash's wall time, in ms. */
  get meanMs(): number {
    return this.#meanMs
  }

  hash(password: string): Promise<string> {
    return this.#bounded(() => hashPassword(password))
  }

  verify(password: string, stored: string): Promise<boolean> {
    return this.#bounded(() => verifyPassword(password, stored))
  }

  async #bounded<T>(work: () => Promise<T>): Promise<T> {
    await this.#turn()
    const started = performance.now()
    try {
      this.hashes.inc()
      return await work()
    } finally {
      this.#meanMs += MEAN_WEIGHT * (performance.now() - started - this.#meanMs)
      // The slot passes to the next in line, or is freed.
      const next = this.#waiting.shift()
      if (next) next()
      else this.#running--
    }
  }

  async #turn(): Promise<void> {
    if (this.#running < this.limits.concurrency) {
      this.#running++
      return
    }
    const expectedWaitMs = ((this.#waiting.length + 1) * this.#meanMs) / this.limits.concurrency
    if (expectedWaitMs > this.limits.maxWaitMs) {
      const retryAfter = Math.max(1, Math.ceil(this.limits.maxWaitMs / 1000))
      throw new HttpError(503, `the users service is checking too many passwords; try again in ${retryAfter} s`, {
        code: 'OVERLOADED',
        service: 'users',
        expose: true,
        headers: { 'retry-after': String(retryAfter) },
      })
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve))
  }
}
