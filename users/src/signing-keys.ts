import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import {
  type Database,
  generateSigningKey,
  type KeySource,
  MAX_TOKEN_TTL_SECONDS,
  type PublicJwk,
  type VerificationKey,
} from '@cinema/kit'

// Any fixed 64-bit key: replicas needing a key together make one, not one each.
const SIGNING_KEY_LOCK = 727_274_012
// Each replica reads the current key and the published set again this often, so a key made or
// rotated by another replica is used and accepted within a minute.
const RELOAD_MS = 60_000
// What verifiers fetch is read afresh at most this often: a verifier meeting a new kid fetches the
// set at once, and must find the key another replica has just made.
const PUBLISHED_MAX_AGE_MS = 1_000
// A retired key stays published this much longer than its last token can live (a replica may
// sign with it for up to RELOAD_MS after the rotation).
const RETIREMENT_MARGIN_SECONDS = 300

interface KeyRow {
  kid: string
  private_key: string
  public_jwk: string
  created_at: Date | string
}

export interface SigningKey {
  kid: string
  privateKey: KeyObject
}

/**
 * The Ed25519 keys tokens are signed with, kept in the users database so that every replica signs
 * alike: made by the first replica that needs one, replaced after `rotationDays`, and published
 * (`/.well-known/jwks.json`) until every token the old one signed has expired.
 */
export class SigningKeys implements KeySource {
  #current: { key: SigningKey; loadedAt: number } | undefined
  #published: { keys: Map<string, { jwk: PublicJwk; key: KeyObject }>; loadedAt: number } | undefined

  constructor(
    private readonly db: Database,
    private readonly rotationDays: number,
  ) {}

  /** The key to sign with now; made (or rotated) here when there is none young enough. */
  async current(): Promise<SigningKey> {
    if (this.#current && Date.now() - this.#current.loadedAt < RELOAD_MS) return this.#current.key
    const key = (await this.#newest()) ?? (await this.#rotate())
    this.#current = { key, loadedAt: Date.now() }
    return key
  }

  /** The public keys tokens may be signed with: the current one and the recently retired. */
  async published(): Promise<PublicJwk[]> {
    return [...(await this.#publishedKeys(PUBLISHED_MAX_AGE_MS)).values()].map(({ jwk }) => jwk)
  }

  async keyFor(kid: string): Promise<VerificationKey | undefined> {
    const known = (await this.#publishedKeys(RELOAD_MS)).get(kid)
    // Unknown: perhaps made by another replica in the last minute, so read again (once a second at most).
    return known?.key ?? (await this.#publishedKeys(PUBLISHED_MAX_AGE_MS)).get(kid)?.key
  }

  async #publishedKeys(maxAgeMs: number) {
    if (this.#published && Date.now() - this.#published.loadedAt < maxAgeMs) return this.#published.keys
    await this.current()
    const rows = await this.db.query<Pick<KeyRow, 'kid' | 'public_jwk'>>(
      `SELECT kid, public_jwk FROM signing_keys
       WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1)
       ORDER BY created_at DESC`,
      [MAX_TOKEN_TTL_SECONDS + RETIREMENT_MARGIN_SECONDS],
    )
    const keys = new Map<string, { jwk: PublicJwk; key: KeyObject }>()
    for (const row of rows) {
      const jwk = JSON.parse(row.public_jwk) as PublicJwk
      keys.set(row.kid, { jwk, key: createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' }) })
    }
    this.#published = { keys, loadedAt: Date.now() }
    return keys
  }

  /** The newest key still in service and young enough, if any. */
  async #newest(db: Pick<Database, 'query'> = this.db): Promise<SigningKey | undefined> {
    const [row] = await db.query<KeyRow>(
      `SELECT kid, private_key FROM signing_keys
       WHERE retired_at IS NULL AND created_at > now() - make_interval(days => $1)
       ORDER BY created_at DESC LIMIT 1`,
      [this.rotationDays],
    )
    return row && { kid: row.kid, privateKey: createPrivateKey(row.private_key) }
  }

  /** Makes a new key and retires the old ones, once across replicas (the lock, then a second look). */
  async #rotate(): Promise<SigningKey> {
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [SIGNING_KEY_LOCK])
      const made = await this.#newest(tx)
      if (made) return made
      const { privateKey, jwk } = await generateSigningKey()
      const { kid } = jwk
      await tx.query('UPDATE signing_keys SET retired_at = now() WHERE retired_at IS NULL', [])
      await tx.query('INSERT INTO signing_keys (kid, private_key, public_jwk) VALUES ($1, $2, $3)', [
        kid,
        privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
        JSON.stringify(jwk),
      ])
      // Published at once: a verifier meeting the new kid fetches the set from this replica.
      this.#published = undefined
      return { kid, privateKey }
    })
  }
}
