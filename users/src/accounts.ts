import { BEARER_CHALLENGE, type Database, HttpError, type Role, TOKEN_ALGORITHM } from '@cinema/kit'
import { SignJWT } from 'jose'
import { needsRehash, type Passwords } from './passwords.js'
import type { SigningKeys } from './signing-keys.js'

/** The password of every user without one of their own, in demo mode only. */
export const DEMO_PASSWORD = 'cinema-demo'
// Issue 12: after this many failed sign-ins for one username within the window, 429.
export const SIGN_IN_ATTEMPTS = 10
export const SIGN_IN_WINDOW_SECONDS = 15 * 60
// Counts of windows long over are deleted this often, by whichever sign-in comes first.
const CLEANUP_INTERVAL_MS = 10 * 60_000

export interface AccountSettings {
  issuer: string
  audience: string
  tokenTtlSeconds: number
  demoCredentials: boolean
  adminUsernames: ReadonlySet<string>
}

export interface IssuedToken {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
}

const BAD_CREDENTIALS = () =>
  new HttpError(401, 'wrong username or password', {
    code: 'BAD_CREDENTIALS',
    headers: { 'www-authenticate': BEARER_CHALLENGE },
  })

/**
 * Passwords and sign-in: who may sign in as whom, how often they may try, and the tokens they get.
 * An unknown username is checked against a hash of nothing anyone knows, so it takes as long and
 * is answered the same as a wrong password.
 */
export class Accounts {
  #cleanedAt = Date.now()

  private constructor(
    private readonly db: Database,
    private readonly keys: SigningKeys,
    private readonly settings: AccountSettings,
    private readonly passwords: Passwords,
    /** What a user without a password of their own is checked against: the demo password's hash in demo mode. */
    private readonly fallbackHash: string,
  ) {}

  static async create(
    db: Database,
    keys: SigningKeys,
    settings: AccountSettings,
    passwords: Passwords,
  ): Promise<Accounts> {
    const fallback = settings.demoCredentials ? DEMO_PASSWORD : crypto.randomUUID()
    return new Accounts(db, keys, settings, passwords, await passwords.hash(fallback))
  }

  /** The hash to store for a new password (bounded like every hash: 503 when too many wait). */
  hashPassword(password: string): Promise<string> {
    return this.passwords.hash(password)
  }

  /** Whether `username` is kept for an administrator (ADMIN_USERNAMES): only an admin may create it. */
  isReservedForAdmin(username: string): boolean {
    return this.settings.adminUsernames.has(username)
  }

  /** A token for `username` when `password` is theirs; 401 otherwise, 429 after too many tries. */
  async signIn(username: string, password: string): Promise<IssuedToken> {
    await this.#countAttempt(username)
    const role = await this.#roleIfMatches(username, password)
    if (!role) throw BAD_CREDENTIALS()
    return this.#issue(username, role)
  }

  /**
   * Whether `password` is the user's current one (the demo password stands for a missing one in
   * demo mode). Counted as a sign-in attempt: a stolen session cannot guess the password this way.
   */
  async isPasswordOf(username: string, password: string): Promise<boolean> {
    await this.#countAttempt(username)
    return (await this.#roleIfMatches(username, password)) !== undefined
  }

  /**
   * The user's stored role when the user exists and `password` is theirs (the fallback hash
   * standing for a missing one), read with the hash so that a token says what the account is
   * at that moment; a match clears their attempts. An unknown user costs one hash all the same.
   */
  async #roleIfMatches(username: string, password: string): Promise<Role | undefined> {
    const [user] = await this.db.query<{ password_hash: string | null; role: Role }>(
      'SELECT password_hash, role FROM users WHERE id = $1',
      [username],
    )
    const matches = await this.passwords.verify(password, user?.password_hash ?? this.fallbackHash)
    if (!user || !matches) return undefined
    await this.db.query('DELETE FROM sign_in_attempts WHERE username = $1', [username])
    if (user.password_hash && needsRehash(user.password_hash))
      await this.#rehash(username, password, user.password_hash)
    return user.role
  }

  /**
   * Stores the password hashed as passwords are now (an older scrypt hash becomes argon2id),
   * unless it was changed meanwhile: a password change made at the same time wins. Best effort:
   * when hashing is overloaded, the next good sign-in does it.
   */
  async #rehash(username: string, password: string, oldHash: string): Promise<void> {
    const newHash = await this.passwords.hash(password).catch(() => undefined)
    if (newHash === undefined) return
    await this.db.query('UPDATE users SET password_hash = $2 WHERE id = $1 AND password_hash = $3', [
      username,
      newHash,
      oldHash,
    ])
  }

  async #issue(username: string, role: Role): Promise<IssuedToken> {
    const key = await this.keys.current()
    // One reading of the clock for both, so that the lifetime is exactly the setting's.
    const issuedAt = Math.floor(Date.now() / 1000)
    const accessToken = await new SignJWT({ role })
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: key.kid, typ: 'JWT' })
      .setSubject(username)
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + this.settings.tokenTtlSeconds)
      .sign(key.privateKey)
    return { access_token: accessToken, token_type: 'Bearer', expires_in: this.settings.tokenTtlSeconds }
  }

  /**
   * Records this attempt before the password is checked, so that parallel guesses (on any replica)
   * cannot pass the limit: the times of the last SIGN_IN_ATTEMPTS + 1 attempts within the window
   * are kept, and a full list means one too many in the last 15 minutes. It is a 429 until the
   * second oldest leaves the window (then the next attempt is the tenth).
   */
  async #countAttempt(username: string): Promise<void> {
    if (Date.now() - this.#cleanedAt > CLEANUP_INTERVAL_MS) {
      this.#cleanedAt = Date.now()
      // Every username ever tried has a row; those tried last before the window go.
      await this.db.query(
        'DELETE FROM sign_in_attempts WHERE attempted_at[cardinality(attempted_at)] < now() - make_interval(secs => $1)',
        [SIGN_IN_WINDOW_SECONDS],
      )
    }
    const [row] = await this.db.query<{ attempts: number; retry_after: number | null }>(
      `INSERT INTO sign_in_attempts AS s (username, attempted_at) VALUES ($1, ARRAY[now()])
       ON CONFLICT (username) DO UPDATE SET attempted_at = ARRAY(
         SELECT at FROM (
           SELECT at FROM unnest(s.attempted_at || now()) AS at
           WHERE at > now() - make_interval(secs => $2)
           ORDER BY at DESC LIMIT $3
         ) AS recent ORDER BY at
       )
       RETURNING cardinality(attempted_at) AS attempts,
         ceil(extract(epoch FROM attempted_at[2] + make_interval(secs => $2) - now()))::integer AS retry_after`,
      [username, SIGN_IN_WINDOW_SECONDS, SIGN_IN_ATTEMPTS + 1],
    )
    if (row && row.attempts > SIGN_IN_ATTEMPTS) {
      const retryAfter = Math.max(1, row.retry_after ?? SIGN_IN_WINDOW_SECONDS)
      throw new HttpError(429, `too many failed sign-ins for ${username}; try again in ${retryAfter} s`, {
        code: 'TOO_MANY_SIGN_INS',
        headers: { 'retry-after': String(retryAfter) },
      })
    }
  }
}
